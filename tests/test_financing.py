"""Financing logic (actions/financing/plan.py) against values computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actions.financing import plan as financing
from actions.financing.plan import (
    FinancingInput,
    Row,
    check_down_payment,
    check_down_pct,
    check_price,
    check_rate,
    check_term,
    make_plan,
    monthly_payment,
    parse_message,
    schedule,
    yearly_summary,
)
from actions.formatting import WHATSAPP_LIMIT


@pytest.fixture(autouse=True)
def default_settings(monkeypatch):
    monkeypatch.delenv("FINANCING_ANNUAL_RATE", raising=False)
    monkeypatch.delenv("FINANCING_MIN_DOWN_PCT", raising=False)


# ---------------------------------------------------------------- amortization


def test_three_month_schedule_worked_by_hand():
    # 10,000 at 12% a year = 1% a month: 100 / (1 - 1.01^-3) = 3,400.22 -> 3,400.
    # Month 1: interest 100, principal 3,300, balance 6,700.
    # Month 2: interest 67, principal 3,333, balance 3,367.
    # Month 3: interest 33.67 -> 34; the last payment clears 3,367: 3,401.
    assert schedule(10_000, 12, 3) == [
        Row(1, 3_400, 100, 3_300, 6_700),
        Row(2, 3_400, 67, 3_333, 3_367),
        Row(3, 3_401, 34, 3_367, 0),
    ]


def test_textbook_payment_100k_at_12_percent_over_36_months():
    assert monthly_payment(100_000, 12, 36) == 3_321  # 3,321.43


def test_payments_match_the_standard_table_at_10_percent():
    # Payment per $1,000 at 10%: 36 m 32.267, 48 m 25.363, 60 m 21.247, 72 m 18.526.
    # For the original's Nissan Versa ($340,000, 20% down): 272 x those values.
    expected = {36: 8_777, 48: 6_899, 60: 5_779, 72: 5_039}
    for months, payment in expected.items():
        assert make_plan(340_000, 68_000, months).monthly_payment == payment


def test_zero_rate_divides_evenly_and_the_last_payment_absorbs_the_remainder():
    plan = make_plan(120_000, 20_000, 48, 0)
    # 100,000 / 48 = 2,083.33 -> 2,083; last = 100,000 - 47 x 2,083 = 2,099.
    assert plan.monthly_payment == 2_083
    assert plan.last_payment == 2_099
    assert plan.total_paid == 100_000
    assert plan.total_interest == 0


def test_plan_totals_are_exact_to_the_peso():
    plan = make_plan(340_000, 68_000, 48, 10)
    assert plan.financed == 272_000
    assert plan.down_pct == 20
    assert sum(row.principal for row in plan.rows) == 272_000
    assert plan.rows[-1].balance == 0
    assert all(row.payment == plan.monthly_payment for row in plan.rows[:-1])
    assert plan.total_paid == 47 * plan.monthly_payment + plan.last_payment
    assert plan.total_interest == plan.total_paid - plan.financed
    # Rounding the payment up by 0.31 a month leaves the last one a little lower.
    assert plan.last_payment == 6_877
    assert plan.total_paid == 331_130


def test_each_month_interest_is_the_balance_times_the_monthly_rate_rounded_half_up():
    plan = make_plan(500_000, 100_000, 60, 12)
    balance = plan.financed
    for row in plan.rows:
        assert row.interest == financing.to_pesos(Decimal(balance) * Decimal("0.01"))
        assert row.payment == row.interest + row.principal
        balance -= row.principal
        assert row.balance == balance


def test_rounding_is_half_up_not_bankers():
    assert financing.to_pesos(2.5) == 3
    assert financing.to_pesos(3400.5) == 3401
    assert financing.to_pesos(3400.49) == 3400


def test_tiny_amounts_never_overpay():
    rows = schedule(20, 0, 36)  # 20 / 36 = 0.56 -> 1 peso a month: paid off in month 20
    assert sum(row.principal for row in rows) == 20
    assert all(row.balance >= 0 for row in rows)


def test_yearly_summary_adds_up():
    plan = make_plan(340_000, 68_000, 72, 10)
    years = yearly_summary(plan)
    assert [y.year for y in years] == [1, 2, 3, 4, 5, 6]
    assert sum(y.interest for y in years) == plan.total_interest
    assert sum(y.principal for y in years) == plan.financed
    assert years[-1].balance == 0
    assert years[0].balance == plan.rows[11].balance
    assert all(a.balance > b.balance for a, b in zip(years, years[1:]))
    assert all(a.interest > b.interest for a, b in zip(years, years[1:]))


def test_yearly_summary_of_the_hand_worked_schedule():
    plan = make_plan(20_000, 10_000, 3, 12)
    assert [(y.interest, y.principal, y.balance) for y in yearly_summary(plan)] == [(201, 10_000, 0)]


def test_default_rate_comes_from_the_environment(monkeypatch):
    assert make_plan(300_000, 60_000, 36).annual_rate == 10
    monkeypatch.setenv("FINANCING_ANNUAL_RATE", "12")
    plan = make_plan(130_000, 30_000, 36)
    assert plan.annual_rate == 12
    assert plan.monthly_payment == 3_321


# ---------------------------------------------------------------- validation


def test_price_refusals():
    assert "positiva" in check_price(-300_000)
    assert "positiva" in check_price(0)
    assert "*500 mil*" in check_price(500)
    assert "$20,000,000" in check_price(25_000_000)
    assert check_price(340_000) is None


def test_down_payment_refusals():
    assert "menor que el precio" in check_down_payment(400_000, 300_000)
    assert "menor que el precio" in check_down_payment(300_000, 300_000)
    assert "negativo" in check_down_payment(-50_000, 300_000)
    assert "$30,000" in check_down_payment(29_999, 300_000)
    assert "*20 mil* o *20%*" in check_down_payment(20, 300_000)
    hundreds = check_down_payment(150, 637_999)  # "150 de enganche": thousands, never 150%
    assert "$150,000" in hundreds and "*150 mil*" in hundreds and "%" not in hundreds
    assert check_down_payment(30_000, 300_000) is None
    assert check_down_payment(100_000, None) is None  # price still unknown


def test_minimum_down_payment_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("FINANCING_MIN_DOWN_PCT", "20")
    assert "20%" in check_down_payment(59_999, 300_000)
    assert check_down_payment(60_000, 300_000) is None
    assert "20%" in check_down_pct(15)


def test_down_payment_percent_refusals():
    assert "negativo" in check_down_pct(-10)
    assert "100%" in check_down_pct(100)
    assert "$30,000" in check_down_pct(5, 300_000)
    assert check_down_pct(10) is None


def test_term_refusals():
    for months in (0, 12, 35, 73, 90, 42.5):
        assert "de 36 a 72 meses" in check_term(months)
    for months in (36, 42, 48, 72):
        assert check_term(months) is None


def test_rate_refusals():
    for rate in (-1, 60.5, 80):
        assert "entre 0% y 60%" in check_rate(rate)
    for rate in (0, 10.9, 60):
        assert check_rate(rate) is None


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, expecting, expected",
    [
        (
            "Calcula el financiamiento para un auto de 500 mil pesos con enganche de 100 mil",
            None,
            FinancingInput(price=500_000, down_payment=100_000),
        ),
        (
            "un auto de 500 mil con 20% de enganche a 4 años y tasa de 12%",
            None,
            FinancingInput(price=500_000, down_pct=20, term=48, rate=12),
        ),
        (
            "tasa de 12% y 20% de enganche, el carro cuesta $340,000, a 60 meses",
            None,
            FinancingInput(price=340_000, down_pct=20, term=60, rate=12),
        ),
        ("100 mil de enganche y un auto de 500 mil", None, FinancingInput(price=500_000, down_payment=100_000)),
        ("500 mil y 100 mil", None, FinancingInput(price=500_000, down_payment=100_000)),
        ("mejor a 60 meses", None, FinancingInput(term=60)),
        ("¿y a 6 años?", None, FinancingInput(term=72)),
        ("a tres años y medio", None, FinancingInput(term=42)),
        ("plazo de 48", None, FinancingInput(term=48)),
        ("¿y con tasa de 12%?", None, FinancingInput(rate=12)),
        ("12.5% anual", None, FinancingInput(rate=12.5)),
        ("enganche del 30 por ciento", None, FinancingInput(down_pct=30)),
        ("¿y si doy 150 mil?", None, FinancingInput(down_payment=150_000)),
        ("y con 150 mil?", None, FinancingInput(down_payment=150_000)),
        ("sin enganche", None, FinancingInput(down_payment=0)),
        ("-50 mil de enganche", None, FinancingInput(down_payment=-50_000)),
        ("enganche de -10%", None, FinancingInput(down_pct=-10)),
        ("el Versa 2021 de 340 mil", None, FinancingInput(price=340_000)),
        ("un auto de 1.2 millones a 72 meses", None, FinancingInput(price=1_200_000, term=72)),
        ("un auto de 500", None, FinancingInput(price=500)),
        # what the bot asked decides what a bare value means
        ("100 mil", "down", FinancingInput(down_payment=100_000)),
        ("100 mil", "price", FinancingInput(price=100_000)),
        ("20%", "down", FinancingInput(down_pct=20)),
        ("12%", "rate", FinancingInput(rate=12)),
        ("60", "term", FinancingInput(term=60)),
        ("12", "rate", FinancingInput(rate=12)),
        # not financing data
        ("¿la garantía es de 3 meses?", "down", FinancingInput()),
        ("hola", None, FinancingInput()),
        ("me quedo con la 3, cuanto a 72 meses con 20%", None, FinancingInput(down_pct=20, term=72)),
    ],
)
def test_parse_message(text, expecting, expected):
    assert parse_message(text, expecting) == expected


# ---------------------------------------------------------------- messages


def test_single_plan_message_has_the_original_shape_and_exact_figures():
    text = financing.describe_plan(make_plan(340_000, 68_000, 48), "Nissan Versa 2021")
    for line in (
        "Para el *Nissan Versa 2021* ($340,000)",
        "💰 Enganche: $68,000 (20%)",
        "🏦 Monto a financiar: $272,000",
        "📅 Plazo: 48 meses",
        "💵 Mensualidad: *$6,899*",
        "📈 Tasa: 10% anual",
        "Total pagado en mensualidades: $331,130",
        "Intereses totales: $59,130",
        "la última es de $6,877",
    ):
        assert line in text
    assert len(text) <= WHATSAPP_LIMIT


def test_four_plans_fit_one_whatsapp_message():
    plans = [make_plan(340_000, 68_000, months, Decimal("10.9")) for months in financing.TERMS]
    text = financing.describe_plans(plans)
    assert "Para un auto de $340,000" in text
    assert "📈 Tasa: 10.9% anual" in text
    for plan in plans:
        assert f"*{plan.months} meses*: 💵 *${plan.monthly_payment:,}*/mes" in text
    assert len(text) <= WHATSAPP_LIMIT


def test_yearly_table_message():
    plan = make_plan(340_000, 68_000, 72)
    text = financing.describe_yearly_table(plan)
    assert text.count("*Año ") == 6
    assert f"intereses ${plan.total_interest:,} · capital $272,000" in text
    assert len(text) <= WHATSAPP_LIMIT
