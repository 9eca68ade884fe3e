"""Financing over the real Rasa server and action server: the numbers in the replies."""

from __future__ import annotations

import re

import pytest

from actions import db
from actions.financing import plan as financing


@pytest.fixture(scope="module")
def versa(database_url) -> str:
    """A car in the catalog to finance (the original conversation's Nissan Versa 2021)."""
    stock_id = "FIN-VERSA-2021"
    with db.session_scope(database_url) as session:
        session.merge(
            db.Car(
                stock_id=stock_id, make="Nissan", model="Versa", version="Advance", year=2021, price=340_000, km=45_000
            )
        )
    return stock_id


def put_car_in_focus(servers, sender: str, stock_id: str) -> None:
    """Set `car_in_focus` as search would, through Rasa's HTTP API."""
    servers.add_event(sender, {"event": "slot", "name": "car_in_focus", "value": stock_id})


def slots(servers, sender: str) -> dict:
    return servers.tracker(sender)["slots"]


def test_amount_and_down_payment_in_the_first_message_show_four_plans(servers):
    reply = servers.say_text(
        "fin-first", "Calcula el financiamiento para un auto de 500 mil pesos con enganche de 100 mil"
    )
    assert "Para un auto de $500,000" in reply
    assert "💰 Enganche: $100,000 (20%)" in reply
    assert "🏦 Monto a financiar: $400,000" in reply
    assert "📈 Tasa: 10% anual" in reply
    # $400,000 at 10%: 400 x the payment per $1,000 (32.267, 25.363, 21.247, 18.526)
    for months, payment in ((36, "12,907"), (48, "10,145"), (60, "8,499"), (72, "7,410")):
        assert f"*{months} meses*: 💵 *${payment}*/mes" in reply
    assert reply.endswith("¿Te gustaría agendar una cita para ver el auto?")


def test_term_correction_mid_form_and_a_new_rate_afterwards(servers):
    sender = "fin-correct"
    assert "¿De qué precio es el auto" in servers.say_text(sender, "quiero financiar un auto")
    reply = servers.say_text(sender, "350 mil")
    assert "¿Cuánto darías de enganche" in reply and "$35,000" in reply  # the 10% minimum
    reply = servers.say_text(sender, "mejor a 60 meses")
    assert "Anotado: plazo de 60 meses" in reply
    assert "¿Cuánto darías de enganche" in reply

    reply = servers.say_text(sender, "20%")
    plan = financing.make_plan(350_000, 70_000, 60, 10)
    assert "💰 Enganche: $70,000 (20%)" in reply
    assert "📅 Plazo: 60 meses" in reply
    assert f"💵 Mensualidad: *${plan.monthly_payment:,}*" in reply
    assert "*$5,949*" in reply  # 280 x 21.247 = 5,949.2
    assert f"Intereses totales: ${plan.total_interest:,}" in reply
    assert "¿Te gustaría agendar una cita" in reply

    reply = servers.say_text(sender, "¿y con tasa de 12%?")
    assert "📈 Tasa: 12% anual" in reply
    assert "📅 Plazo: 60 meses" in reply  # the term agreed stays
    assert "*$6,228*" in reply  # 280 x 22.2444 = 6,228.4
    assert slots(servers, sender)["financing_rate"] == 12

    # a new request starts again from the default rate and all the terms
    reply = servers.say_text(sender, "calcula el financiamiento de un auto de 350 mil con 20% de enganche")
    assert "📈 Tasa: 10% anual" in reply
    assert "*60 meses*: 💵 *$5,949*/mes" in reply and "*36 meses*" in reply
    assert slots(servers, sender)["financing_rate"] is None


def test_the_car_in_focus_gives_the_price(servers, versa):
    sender = "fin-car"
    servers.say(sender, "hola")
    put_car_in_focus(servers, sender, versa)
    reply = servers.say_text(sender, "¿Cuánto sería la mensualidad del Versa?")
    assert "*Nissan Versa 2021* ($340,000)" in reply
    assert "$34,000" in reply  # the minimum down payment
    reply = servers.say_text(sender, "20%")
    assert "Para el *Nissan Versa 2021* ($340,000)" in reply
    assert "💰 Enganche: $68,000 (20%)" in reply
    for months, payment in ((36, "8,777"), (48, "6,899"), (60, "5,779"), (72, "5,039")):
        assert f"*{months} meses*: 💵 *${payment}*/mes" in reply

    # another amount is no longer that car; the percent of down payment follows the price
    reply = servers.say_text(sender, "¿y si fuera un auto de 400 mil a 4 años?")
    assert "Para un auto de $400,000" in reply and "Versa" not in reply
    assert "💰 Enganche: $80,000 (20%)" in reply
    assert "💵 Mensualidad: *$8,116*" in reply  # 320 x 25.363 = 8,116.2

    # a new request goes back to the car in focus, with all the terms
    reply = servers.say_text(sender, "¿cuánto sería la mensualidad?")
    assert "Para el *Nissan Versa 2021* ($340,000)" in reply
    assert "*48 meses*: 💵 *$6,899*/mes" in reply


def test_refusals_explain_and_ask_again(servers):
    sender = "fin-refuse"
    reply = servers.say_text(sender, "financiamiento para un auto de 300 mil con enganche de 400 mil")
    assert "tiene que ser menor que el precio del auto ($300,000)" in reply
    assert "¿Cuánto darías de enganche" in reply
    reply = servers.say_text(sender, "-50 mil")
    assert "no puede ser negativo" in reply and "¿Cuánto darías de enganche" in reply
    reply = servers.say_text(sender, "5%")
    assert "El enganche mínimo es 10% del precio: $30,000" in reply
    assert "¿Cuánto darías de enganche" in reply
    assert slots(servers, sender)["financing_down_payment"] is None

    reply = servers.say_text(sender, "30%")
    assert "💰 Enganche: $90,000 (30%)" in reply

    reply = servers.say_text(sender, "a 90 meses")
    assert "El plazo tiene que ser de 36 a 72 meses" in reply
    assert "¿A qué plazo lo quieres?" in reply
    reply = servers.say_text(sender, "48")
    assert "📅 Plazo: 48 meses" in reply
    assert "*$5,326*" in reply  # 210 x 25.363 = 5,326.2

    reply = servers.say_text(sender, "con tasa de 80%")
    assert "La tasa anual tiene que estar entre 0% y 60%" in reply
    assert "¿Con qué tasa anual lo calculo?" in reply
    reply = servers.say_text(sender, "0%")
    assert "📈 Tasa: 0% anual" in reply
    assert "*$4,375*" in reply  # 210,000 / 48 exactly
    assert "Intereses totales: $0" in reply


def test_absurd_price_is_refused_with_a_hint(servers):
    sender = "fin-absurd"
    reply = servers.say_text(sender, "quiero financiar un auto de 500")
    assert "$500 es muy poco" in reply and "*500 mil*" in reply
    assert "¿De qué precio es el auto" in reply
    reply = servers.say_text(sender, "500 mil")
    assert "¿Cuánto darías de enganche" in reply and "$50,000" in reply


def test_amortization_table_adds_up(servers):
    sender = "fin-table"
    servers.say(sender, "calcula el financiamiento de un auto de 450 mil con 90 mil de enganche a 36 meses")
    reply = servers.say_text(sender, "tabla de amortización")
    plan = financing.make_plan(450_000, 90_000, 36, 10)
    years = re.findall(r"\*Año (\d)\*: intereses \$([\d,]+) · capital \$([\d,]+) · saldo \$([\d,]+)", reply)
    assert [int(y[0]) for y in years] == [1, 2, 3]

    def pesos(text: str) -> int:
        return int(text.replace(",", ""))

    assert sum(pesos(y[1]) for y in years) == plan.total_interest
    assert sum(pesos(y[2]) for y in years) == 360_000
    assert pesos(years[-1][3]) == 0
    assert f"mensualidad ${plan.monthly_payment:,}" in reply
    assert "mensualidad $11,616" in reply  # 360 x 32.267 = 11,616.1


def test_table_without_a_plan_says_what_it_needs(servers):
    reply = servers.say_text("fin-table-empty", "tabla de amortización")
    assert "Dime el precio del auto y tu enganche" in reply


def test_a_no_mid_form_leaves_it(servers):
    sender = "fin-leave"
    assert "¿Cuánto darías de enganche" in servers.say_text(sender, "quiero financiar un auto de 300 mil")
    assert "¿Hay algo más en lo que te pueda ayudar?" in servers.say_text(sender, "no, gracias")
    assert servers.tracker(sender)["active_loop"] == {}
    assert "¡Hola!" in servers.say_text(sender, "hola")  # the form no longer takes the turn


def test_values_given_before_the_price_are_kept_and_confirmed(servers):
    sender = "fin-early"
    reply = servers.say_text(sender, "quiero financiarlo con 20% de enganche a 48 meses y tasa de 12%")
    assert "Anotado: enganche de 20%, plazo de 48 meses y tasa de 12% anual ✅" in reply
    assert "¿De qué precio es el auto" in reply
    reply = servers.say_text(sender, "340 mil")
    assert "💰 Enganche: $68,000 (20%)" in reply
    assert "📅 Plazo: 48 meses" in reply
    assert "💵 Mensualidad: *$7,163*" in reply  # 272 x 26.334 = 7,162.8


@pytest.mark.parametrize("question", ["cuanto es lo minimo de enganche?", "de cuanto es el enganche minimo"])
def test_asking_for_the_minimum_down_payment_mid_form_gets_it_for_this_price(servers, question):
    sender = f"fin-minimum-{len(question)}"
    servers.say_text(sender, "hola quiero financiar un carro")
    assert "¿Cuánto darías de enganche" in servers.say_text(sender, "uno de 300 mil mas o menos")
    reply = servers.say_text(sender, question)
    assert "El enganche mínimo es *10%* del precio: para un auto de $300,000 son *$30,000*" in reply
    assert reply.count("¿Cuánto darías de enganche") == 1  # asked again, once
    assert slots(servers, sender)["financing_down_payment"] is None
