"""Business report: MSAT, appointments, handoffs to a person and the sales funnel (`make report`).

The funnel is read from Rasa's `events` table (the tracker store shares the
database): a conversation counts for a step when one of its intents or actions
matches that step's name patterns below. The topics a rating is filed under
belong to the feedback capability (TOPICS in actions/feedback/msat.py).

    python -m actions.report [--days N]
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy import func, inspect, select, text

from actions.appointments.store import to_utc
from actions.db import Appointment, DataDeletion, Handoff, OptOut, Rating, database_url, get_engine, session_scope
from actions.feedback.msat import matches

# Funnel step -> patterns: a conversation reaches the step when one of them shows up.
FUNNEL: Sequence[Tuple[str, Tuple[str, ...]]] = (
    ("búsquedas", ("action_search_cars",)),
    ("planes de financiamiento", ("action_show_financing_plan",)),
)


@dataclass
class Report:
    ratings: Counter = field(default_factory=Counter)
    follow_ups: int = 0
    appointments: Counter = field(default_factory=Counter)
    conversations: int = 0
    funnel: Dict[str, int] = field(default_factory=dict)
    booked_conversations: int = 0
    handoffs: Counter = field(default_factory=Counter)  # by reason
    handoff_endings: Counter = field(default_factory=Counter)  # open, staff, timeout, deleted
    first_replies_min: List[float] = field(default_factory=list)  # minutes to staff's first reply
    opt_outs: int = 0
    deletions: int = 0

    @property
    def msat_average(self) -> Optional[float]:
        total = sum(self.ratings.values())
        return sum(s * n for s, n in self.ratings.items()) / total if total else None


def build(url: Optional[str] = None, since: Optional[datetime] = None) -> Report:
    """Figures from the app's tables and the tracker store's events."""
    report = Report()
    since = since or datetime(1970, 1, 1, tzinfo=timezone.utc)
    db_since = since.astimezone(timezone.utc)
    with session_scope(url) as session:
        for score, count in session.execute(
            select(Rating.score, func.count()).where(Rating.created_at >= db_since).group_by(Rating.score)
        ):
            report.ratings[score] = count
        report.follow_ups = (
            session.scalar(
                select(func.count())
                .select_from(Rating)
                .where(Rating.created_at >= db_since, Rating.follow_up_requested)
            )
            or 0
        )
        for status, count in session.execute(
            select(Appointment.status, func.count())
            .where(Appointment.created_at >= db_since)
            .group_by(Appointment.status)
        ):
            report.appointments[status] = count
        report.booked_conversations = (
            session.scalar(
                select(func.count(func.distinct(Appointment.sender_id))).where(Appointment.created_at >= db_since)
            )
            or 0
        )

        for handoff in session.scalars(select(Handoff).where(Handoff.created_at >= db_since)):
            report.handoffs[handoff.reason] += 1
            report.handoff_endings[handoff.closed_reason or "open"] += 1
            if handoff.first_reply_at:
                waited = to_utc(handoff.first_reply_at) - to_utc(handoff.created_at)
                report.first_replies_min.append(waited.total_seconds() / 60)
        report.opt_outs = session.scalar(select(func.count()).select_from(OptOut)) or 0
        report.deletions = (
            session.scalar(select(func.count()).select_from(DataDeletion).where(DataDeletion.created_at >= db_since))
            or 0
        )

    engine = get_engine(url)
    if not inspect(engine).has_table("events"):
        report.funnel = {label: 0 for label, _ in FUNNEL}
        return report
    names: Dict[str, set] = {}
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT sender_id, type_name, intent_name, action_name FROM events "
                "WHERE timestamp >= :since AND type_name IN ('user', 'action')"
            ),
            {"since": since.timestamp()},
        )
        for sender, kind, intent, action in rows:
            seen = names.setdefault(sender, set())
            if kind == "user":
                seen.add("")  # a conversation is a sender who wrote at least once
            seen.add(intent if kind == "user" else action)
    conversations = [seen for seen in names.values() if "" in seen]
    report.conversations = len(conversations)
    report.funnel = {label: sum(matches(seen, patterns) for seen in conversations) for label, patterns in FUNNEL}
    return report


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def render(report: Report) -> str:
    """The report as plain text."""
    total = sum(report.ratings.values())
    average = report.msat_average
    lines = ["MSAT (satisfacción 1-5)"]
    lines.append(
        f"  promedio: {average:.2f} de 5 ({total} calificaciones)"
        if average is not None
        else "  sin calificaciones todavía"
    )
    for score in range(5, 0, -1):
        count = report.ratings.get(score, 0)
        lines.append(
            f"  {score}: {'█' * round(20 * count / total) if total else '':<20} {count:>5} {_pct(count, total)}"
        )
    lines.append(f"  seguimiento de un asesor solicitado: {report.follow_ups}")
    lines.append("")
    lines.append("Citas")
    labels = {"booked": "agendadas", "cancelled": "canceladas", "moved": "cambiadas de fecha"}
    for status, label in labels.items():
        lines.append(f"  {label:<20} {report.appointments.get(status, 0):>6}")
    lines.append("")
    lines.append("Asesores (handoff)")
    reasons = {"asked": "lo pidió el cliente", "offered": "aceptó la oferta del asistente"}
    lines.append(f"  {'solicitudes':<30} {sum(report.handoffs.values()):>6}")
    for reason, label in reasons.items():
        lines.append(f"    {label:<28} {report.handoffs.get(reason, 0):>6}")
    endings = {"open": "abiertas", "staff": "regresadas por el asesor", "timeout": "sin respuesta a tiempo"}
    for ending, label in endings.items():
        lines.append(f"  {label:<30} {report.handoff_endings.get(ending, 0):>6}")
    waits = sorted(report.first_replies_min)
    lines.append(
        f"  primera respuesta del asesor: mediana {statistics.median(waits):.0f} min, máx. {waits[-1]:.0f} min"
        f" ({len(waits)} respondidas)"
        if waits
        else "  primera respuesta del asesor: ninguna todavía"
    )
    lines.append("")
    lines.append("Datos personales")
    lines.append(f"  {'números dados de baja (BAJA)':<30} {report.opt_outs:>6}")
    lines.append(f"  {'borrados a petición':<30} {report.deletions:>6}")
    lines.append("")
    lines.append("Embudo")
    steps = [("conversaciones", report.conversations), *report.funnel.items(), ("citas", report.booked_conversations)]
    for label, count in steps:
        lines.append(f"  {label:<26} {count:>6} {_pct(count, report.conversations)}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, help="only the last N days (default: everything)")
    args = parser.parse_args(argv)
    since = datetime.now(timezone.utc) - timedelta(days=args.days) if args.days else None
    print(f"Reporte de {database_url()}" + (f" (últimos {args.days} días)" if args.days else ""))
    print()
    print(render(build(since=since)))


if __name__ == "__main__":
    main()
