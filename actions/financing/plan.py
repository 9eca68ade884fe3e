"""Financing: fixed-payment amortization exact to the peso, plans, validation, parsing.

Plain Python (no Rasa): the form in `actions.financing_form` is a thin layer over it.

Rounding rule. Every amount is in whole pesos, rounded half up (0.50 -> 1):
- the monthly rate is the annual rate / 12, exactly (Decimal arithmetic);
- the fixed monthly payment is P·i / (1 − (1 + i)^−n), rounded to the peso
  (P / n at 0%);
- each month's interest is the balance · i, rounded to the peso, and the rest of
  the payment goes to principal;
- the last payment is adjusted (a few pesos up or down) to whatever leaves the
  balance at exactly $0.
So the schedule adds up to the peso: the principal paid equals the amount financed,
the total paid is the sum of the actual payments, and total interest = total paid −
amount financed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import List, Optional, Sequence

from actions.formatting import format_price
from actions.texts import say
from settings import current as current_settings
from understanding.amounts import find_amounts, find_percents
from understanding.cues import TIME_OF_DAY, list_number_spans
from understanding.text import normalize, number_words

TERMS = (36, 48, 60, 72)
MIN_TERM, MAX_TERM = 36, 72
MAX_RATE = Decimal(60)
MIN_PRICE, MAX_PRICE = 20_000, 20_000_000

PRICE = "price"
DOWN = "down"
TERM = "term"
RATE = "rate"


def default_annual_rate() -> Decimal:
    """The annual rate used when the customer names none (`FINANCING_ANNUAL_RATE`, 10)."""
    return current_settings().financing_annual_rate


def min_down_pct() -> Decimal:
    """The smallest down payment, in percent of the price (`FINANCING_MIN_DOWN_PCT`, 10)."""
    return current_settings().financing_min_down_pct


def to_pesos(value) -> int:
    """Round to the whole peso, half up: 3400.5 -> 3401."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------- amortization


def monthly_payment(financed: int, annual_rate, months: int) -> int:
    """Fixed monthly payment for `financed` pesos at `annual_rate` percent over `months`."""
    with localcontext() as ctx:
        ctx.prec = 50
        rate = Decimal(str(annual_rate)) / 1200
        if rate == 0:
            return to_pesos(Decimal(financed) / months)
        return to_pesos(financed * rate / (1 - (1 + rate) ** -months))


@dataclass(frozen=True)
class Row:
    """One month of the schedule."""

    month: int
    payment: int
    interest: int
    principal: int
    balance: int


def schedule(financed: int, annual_rate, months: int) -> List[Row]:
    """The month-by-month schedule; its principal adds up to `financed` exactly."""
    payment = monthly_payment(financed, annual_rate, months)
    with localcontext() as ctx:
        ctx.prec = 50
        rate = Decimal(str(annual_rate)) / 1200
        rows: List[Row] = []
        balance = financed
        for month in range(1, months + 1):
            interest = to_pesos(balance * rate)
            principal = balance if month == months else min(payment - interest, balance)
            balance -= principal
            rows.append(Row(month, interest + principal, interest, principal, balance))
    return rows


@dataclass(frozen=True)
class Plan:
    """A financing plan: what is financed, what is paid each month and in total."""

    price: int
    down_payment: int
    months: int
    annual_rate: Decimal
    rows: Sequence[Row]

    @property
    def financed(self) -> int:
        return self.price - self.down_payment

    @property
    def down_pct(self) -> Decimal:
        return Decimal(self.down_payment) * 100 / Decimal(self.price)

    @property
    def monthly_payment(self) -> int:
        return self.rows[0].payment

    @property
    def last_payment(self) -> int:
        return self.rows[-1].payment

    @property
    def total_paid(self) -> int:
        return sum(row.payment for row in self.rows)

    @property
    def total_interest(self) -> int:
        return sum(row.interest for row in self.rows)


def make_plan(price, down_payment, months: int, annual_rate=None) -> Plan:
    """The plan for a price and down payment (pesos), a term and an annual rate (percent)."""
    price, down_payment = to_pesos(price), to_pesos(down_payment)
    rate = default_annual_rate() if annual_rate is None else Decimal(str(annual_rate))
    return Plan(price, down_payment, int(months), rate, schedule(price - down_payment, rate, int(months)))


@dataclass(frozen=True)
class YearRow:
    """A year of the schedule: interest and principal paid in it, balance at its end."""

    year: int
    interest: int
    principal: int
    balance: int


def yearly_summary(plan: Plan) -> List[YearRow]:
    """The schedule summarised by year (months 1-12, 13-24, ...)."""
    years: List[YearRow] = []
    for start in range(0, len(plan.rows), 12):
        rows = plan.rows[start : start + 12]
        years.append(
            YearRow(
                start // 12 + 1,
                sum(r.interest for r in rows),
                sum(r.principal for r in rows),
                rows[-1].balance,
            )
        )
    return years


# ---------------------------------------------------------------- validation
# Each check returns None when the value is acceptable, else the Spanish reason
# (a response of domain/financing.yml).


def check_price(price: float) -> Optional[str]:
    """A car price must be positive and plausible."""
    if price <= 0:
        return say("utter_financing_price_not_positive")
    if price < MIN_PRICE:
        return say(
            "utter_financing_price_too_low",
            price=format_price(price),
            times_thousand=format_price(price * 1000),
            number=f"{int(price):,}",
        )
    if price > MAX_PRICE:
        return say("utter_financing_price_too_high", price=format_price(price), max_price=format_price(MAX_PRICE))
    return None


def check_down_payment(down: float, price: Optional[float]) -> Optional[str]:
    """A down payment must be below the price and at least the minimum percent of it."""
    if down < 0:
        return say("utter_financing_down_negative")
    if 0 < down <= 100:  # "20 de enganche": 20 mil or 20%
        return say("utter_financing_down_too_small", down=format_price(down), number=format_number(down))
    if 100 < down < 1000:  # "150 de enganche": 150 mil (150% is no down payment)
        return say(
            "utter_financing_down_too_small_thousands",
            down=format_price(down),
            number=format_number(down),
            thousands=format_price(down * 1000),
        )
    if price is None:
        return None
    if down >= price:
        return say("utter_financing_down_above_price", down=format_price(down), price=format_price(price))
    if down < minimum_down_payment(price):
        return _below_minimum(price)
    return None


def minimum_down_payment(price: float) -> int:
    """The smallest down payment for a price, in whole pesos (same rounding as everything)."""
    return to_pesos(Decimal(str(price)) * min_down_pct() / 100)


def describe_minimum_down(price: Optional[float]) -> str:
    """The answer to "¿cuánto es lo mínimo de enganche?", for this price when there is one."""
    pct = format_pct(min_down_pct())
    if not price:
        return say("utter_financing_min_down", pct=pct)
    amount = format_price(minimum_down_payment(price))
    return say("utter_financing_min_down_for_price", pct=pct, amount=amount, price=format_price(price))


def _below_minimum(price: float) -> str:
    return say(
        "utter_financing_down_below_minimum",
        pct=format_pct(min_down_pct()),
        minimum=format_price(minimum_down_payment(price)),
        price=format_price(price),
    )


def check_down_pct(pct: float, price: Optional[float] = None) -> Optional[str]:
    """A down payment in percent must be below 100 and at least the minimum."""
    if pct < 0:
        return say("utter_financing_down_negative")
    if pct >= 100:
        return say("utter_financing_down_pct_too_high")
    if Decimal(str(pct)) < min_down_pct():
        if price is None:
            return say("utter_financing_down_pct_minimum", pct=format_pct(min_down_pct()))
        return _below_minimum(price)
    return None


def check_term(months: float) -> Optional[str]:
    """The term must be a whole number of months from 36 to 72."""
    if months != int(months) or not MIN_TERM <= months <= MAX_TERM:
        return say("utter_financing_term_invalid", min_term=MIN_TERM, max_term=MAX_TERM, months=format_number(months))
    return None


def check_rate(rate: float) -> Optional[str]:
    """The annual rate must be between 0% and 60%."""
    if not 0 <= Decimal(str(rate)) <= MAX_RATE:
        return say("utter_financing_rate_invalid", max_rate=format_pct(MAX_RATE), rate=format_number(rate))
    return None


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class FinancingInput:
    """What a message says about a financing: each value is None when absent.

    Values are kept as written (negative included) so that validation can refuse
    them with a reason: price and down payment in pesos, term in months, rate and
    down_pct in percent.
    """

    price: Optional[float] = None
    down_payment: Optional[float] = None
    down_pct: Optional[float] = None
    term: Optional[float] = None
    rate: Optional[float] = None


_WORD_YEARS = number_words(1, 8, skip={"una"})
_YEARS_IN_WORDS = re.compile(r"\b(%s)\s+anos?\b(\s+y\s+medio)?" % "|".join(_WORD_YEARS))
_LABELS = {
    DOWN: r"enganches?|engancho|enganchar|inicial|entrada|anticipo|doy|daria|dar|dando|pongo|pondria|poniendo|aporto",
    PRICE: r"precio|cuesta|costaria|vale|valor|auto|carro|coche|camioneta|vehiculo",
    RATE: r"tasa|interes|intereses|anual",
    TERM: r"plazo|plazos",
    None: r"garantia|prueba|dias|km|kilometros|kilometraje|puertas|bocinas",
}
_LABEL_WORD = re.compile("|".join(rf"\b(?P<{key or 'other'}>{words})\b" for key, words in _LABELS.items()))
_RIGHT_LABELS = [
    (TERM, re.compile(r"\s*(?:de\s+)?(?P<unit>meses|mes|anos|ano)\b(?P<half>\s+y\s+medio)?")),
    (
        DOWN,
        re.compile(
            r"\s*(?:pesos\s+|mxn\s+)?(?:de |del |para (?:el |la )?|como |en )?(?:enganche|inicial|entrada|anticipo)\b"
        ),
    ),
    (RATE, re.compile(r"\s*(?:de |del )?(?:tasa|interes|intereses|anual)\b")),
    (None, re.compile(r"\s*(?:de |del )?(?:garantia|prueba|dias|km|kilometros|puertas)\b")),
]
_NO_DOWN_PAYMENT = re.compile(r"\bsin\s+enganche\b")
_WARRANTY = re.compile(r"garantia|prueba")


@dataclass
class _Quantity:
    value: float
    start: int
    end: int
    kind: str  # "money", "number", "year" (a model year: ignored) or "percent"
    label: Optional[str] = None
    labelled: bool = False


def _right_label(q: _Quantity, text: str) -> None:
    for label, pattern in _RIGHT_LABELS:
        match = pattern.match(text, q.end)
        if not match:
            continue
        if label == TERM:
            if q.kind == "percent":
                continue
            years = match.group("unit").startswith("ano")
            q.value = q.value * 12 + (6 if match.group("half") else 0) if years else q.value
        q.label, q.labelled, q.end = label, True, match.end()
        return


def _left_label(q: _Quantity, left: str) -> None:
    if re.search(r"\bcon\s*$", left) and q.kind != "number":
        q.label, q.labelled = DOWN, True
        return
    if q.kind == "number" and re.search(r"(?:\ba|plazo de)\s*$", left) and 6 <= q.value <= 120:
        q.label, q.labelled = TERM, True
        return
    labels = list(_LABEL_WORD.finditer(left[-40:]))
    last = labels[-1] if labels else None
    if last:
        q.label, q.labelled = last.lastgroup if last.lastgroup != "other" else None, True


def parse_message(text: str, expecting: Optional[str] = None) -> FinancingInput:
    """Price, down payment, term and rate in a Spanish message, in any order.

    `expecting` (PRICE, DOWN, TERM or RATE) is what the bot just asked for: it
    decides what an unlabelled value means ("100 mil" after "¿cuánto de enganche?").
    """
    norm = normalize(text)
    not_amounts = [m.span() for m in TIME_OF_DAY.finditer(norm)]  # "a las 11" is an hour, never $11
    not_amounts += list_number_spans(norm)  # "me quedo con la 3": a car of the list, never $3
    quantities: List[_Quantity] = []
    for amount in find_amounts(text):
        if any(start <= amount.start < end for start, end in not_amounts):
            continue
        if amount.is_money or amount.value >= 1000:
            kind = "year" if not amount.is_money and 1990 <= amount.value <= 2035 else "money"
        else:
            kind = "number"
        quantities.append(_Quantity(amount.value, amount.start, amount.end, kind))
    for percent in find_percents(text):
        quantities.append(_Quantity(percent.value, percent.start, percent.end, "percent"))
    for match in _YEARS_IN_WORDS.finditer(norm):
        months = _WORD_YEARS[match.group(1)] * 12 + (6 if match.group(2) else 0)
        quantities.append(_Quantity(months, match.start(), match.end(), "number", TERM, True))
    quantities = [q for q in quantities if q.kind != "year"]
    quantities.sort(key=lambda q: q.start)

    previous_end = 0
    for q in quantities:
        left = norm[previous_end : q.start]
        if not q.labelled:
            _right_label(q, norm)
        if not q.labelled:
            _left_label(q, left)
        if q.label == TERM and (
            _WARRANTY.search(left[-30:]) or re.match(r"\s*(?:de\s+)?(?:garantia|prueba)", norm[q.end :])
        ):
            q.label = None  # "3 meses de garantía" is not a term
        if norm[: q.start].rstrip().endswith("-") and not re.search(r"\d\s*-\s*$", norm[: q.start]):
            q.value = -q.value
        previous_end = q.end

    found = {}
    unlabelled_money = []
    for q in quantities:
        if q.kind == "percent":
            label = q.label if q.label in (DOWN, RATE) else (RATE if expecting == RATE else DOWN)
            found["down_pct" if label == DOWN else RATE] = q.value
        elif q.label == TERM:
            found[TERM] = q.value
        elif q.label == RATE:
            found[RATE] = q.value
        elif q.label in (PRICE, DOWN):
            found[q.label] = q.value
        elif q.kind == "money" and not q.labelled:
            unlabelled_money.append(q.value)
        elif q.kind == "number" and not q.labelled and expecting in (PRICE, DOWN, TERM, RATE):
            found.setdefault(expecting, q.value)

    if unlabelled_money:
        if len(unlabelled_money) >= 2 and PRICE not in found and DOWN not in found:
            found[PRICE], found[DOWN] = max(unlabelled_money), min(unlabelled_money)
        elif PRICE in found or (expecting == DOWN and DOWN not in found):
            found.setdefault(DOWN, unlabelled_money[-1])
        else:
            found.setdefault(PRICE, unlabelled_money[-1])
    if _NO_DOWN_PAYMENT.search(norm):
        found.setdefault(DOWN, 0.0)
    if DOWN in found:
        found.pop("down_pct", None)  # an amount said together with a percent wins

    names = {PRICE: "price", DOWN: "down_payment", "down_pct": "down_pct", TERM: "term", RATE: "rate"}
    return FinancingInput(**{names[key]: float(value) for key, value in found.items()})


_VALUE_WORDS = set(
    "de del el la los un una unos con y o a al en por como mas menos pesos mxn mil k millon millones medio "
    "enganche inicial entrada anticipo doy daria pongo pondria tengo puedo dar meses mes anos ano plazo tasa "
    "interes anual porciento ciento por mejor entonces pues ok va si bueno seria sea serian aprox "
    "aproximadamente unos alrededor sin y que uno una carro auto coche es cuesta vale precio de".split()
)


def is_bare_value(text: str) -> bool:
    """Whether a message is only financing values ("100 mil", "20%", "a 48 meses", "doy 80 mil
    de enganche"): an answer to the form's question whatever the intent classifier said."""
    norm = normalize(text)
    if TIME_OF_DAY.search(norm) or not (find_amounts(text) or find_percents(text) or _YEARS_IN_WORDS.search(norm)):
        return False
    words = re.findall(r"[a-z]+", re.sub(r"\d+(?:[.,]\d+)*", " ", norm))
    return all(word in _VALUE_WORDS or word in _WORD_YEARS for word in words)


# ---------------------------------------------------------------- messages


def format_number(value) -> str:
    """A number without trailing zeros: 10 -> '10', 10.90 -> '10.9', 12.345 -> '12.35'."""
    text = f"{Decimal(str(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_pct(value) -> str:
    """A percentage: 20 -> '20%', 10.9 -> '10.9%'."""
    return f"{format_number(value)}%"


def _heading(price: int, car_label: Optional[str]) -> str:
    if car_label:
        return f"Para el *{car_label}* ({format_price(price)})"
    return f"Para un auto de {format_price(price)}"


def describe_plan(plan: Plan, car_label: Optional[str] = None) -> str:
    """One plan, shaped like the original conversation (enganche with its percent first)."""
    lines = [
        f"{_heading(plan.price, car_label)}, este es tu plan de financiamiento 👇",
        "",
        f"💰 Enganche: {format_price(plan.down_payment)} ({format_pct(plan.down_pct)})",
        f"🏦 Monto a financiar: {format_price(plan.financed)}",
        f"📅 Plazo: {plan.months} meses",
        f"💵 Mensualidad: *{format_price(plan.monthly_payment)}*",
        f"📈 Tasa: {format_pct(plan.annual_rate)} anual",
        f"🧾 Total pagado en mensualidades: {format_price(plan.total_paid)}",
        f"📊 Intereses totales: {format_price(plan.total_interest)}",
        "",
    ]
    if plan.last_payment != plan.monthly_payment:
        lines.append(say("utter_financing_rounding_last", last=format_price(plan.last_payment)))
    else:
        lines.append(say("utter_financing_rounding_fixed"))
    lines.append(say("utter_financing_table_hint"))
    return "\n".join(lines)


def describe_plans(plans: Sequence[Plan], car_label: Optional[str] = None) -> str:
    """Several terms side by side for the same price, down payment and rate, one line each."""
    first = plans[0]
    lines = [
        f"{_heading(first.price, car_label)}, te muestro las opciones de financiamiento 👇",
        "",
        f"💰 Enganche: {format_price(first.down_payment)} ({format_pct(first.down_pct)})",
        f"🏦 Monto a financiar: {format_price(first.financed)}",
        f"📈 Tasa: {format_pct(first.annual_rate)} anual",
        "",
    ]
    for plan in plans:
        lines.append(
            f"📅 *{plan.months} meses*: 💵 *{format_price(plan.monthly_payment)}*/mes · "
            f"total {format_price(plan.total_paid)} · intereses {format_price(plan.total_interest)}"
        )
    lines += ["", say("utter_financing_rounding_note"), say("utter_financing_pick_term")]
    return "\n".join(lines)


def describe_yearly_table(plan: Plan) -> str:
    """The amortization schedule summarised by year."""
    lines = [
        f"📋 *Tabla de amortización*: {format_price(plan.financed)} a {plan.months} meses, "
        f"tasa {format_pct(plan.annual_rate)} anual, mensualidad {format_price(plan.monthly_payment)}",
        "",
    ]
    for year in yearly_summary(plan):
        lines.append(
            f"*Año {year.year}*: intereses {format_price(year.interest)} · "
            f"capital {format_price(year.principal)} · saldo {format_price(year.balance)}"
        )
    lines += [
        "",
        f"*Total*: intereses {format_price(plan.total_interest)} · capital {format_price(plan.financed)} "
        f"· pagado {format_price(plan.total_paid)}",
    ]
    return "\n".join(lines)
