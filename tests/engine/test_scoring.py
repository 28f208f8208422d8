from decimal import Decimal

from quizapp.definitions import Catalog, load_data
from quizapp.engine.flow import first_open_step, holds, visible_questions
from quizapp.engine.scoring import score
from tests.conftest import QUIZZES
from tests.helpers import FUNNEL_PATH, minimal_quiz

catalog = Catalog(QUIZZES)
FUNNEL = catalog.get("funnel-leak")
READINESS = catalog.get("lead-magnet-readiness")


def as_answers(quiz, raw: dict) -> dict:
    from quizapp.definitions import question_types

    out = {}
    for qid, values in raw.items():
        q = quiz.question(qid)
        out[qid] = question_types.get(q.type).parse(q, values)
    return out


def test_funnel_leak_names_the_weakest_stage():
    result = score(FUNNEL, as_answers(FUNNEL, FUNNEL_PATH))
    subs = {s.category: (s.score, s.max, s.percent) for s in result.sub_scores}
    assert subs == {
        "traffic": (Decimal(4), Decimal(7), Decimal("57.14")),
        "capture": (Decimal(6), Decimal(6), Decimal("100.00")),
        "nurture": (Decimal(0), Decimal(6), Decimal("0.00")),
        "convert": (Decimal(6), Decimal(9), Decimal("66.67")),
    }
    assert result.outcome == "nurture"
    assert (result.score, result.max_score, result.percent) == (Decimal(16), Decimal(28), Decimal("57.14"))
    assert result.tags == ("quiz:funnel-leak", "channel:owned", "channel:paid", "leak:nurture")


def test_hidden_question_counts_neither_in_score_nor_in_maximum():
    path = dict(FUNNEL_PATH, channels=["seo", "referrals"])  # no paid channel: paid_tracking is hidden
    answers = as_answers(FUNNEL, {k: v for k, v in path.items() if k != "paid_tracking"})
    assert "paid_tracking" not in [q.id for q in visible_questions(FUNNEL, answers)]
    result = score(FUNNEL, answers)
    convert = next(s for s in result.sub_scores if s.category == "convert")
    assert (convert.score, convert.max) == (Decimal(5), Decimal(6))
    assert result.tags == ("quiz:funnel-leak", "channel:owned", "channel:earned", "leak:nurture")


def test_a_stale_answer_to_a_now_hidden_question_is_ignored():
    answers = as_answers(FUNNEL, dict(FUNNEL_PATH, paid_tracking=["cpc"]))
    answers["channels"] = ["seo"]  # visitor went back and dropped the paid channel
    result = score(FUNNEL, answers)
    assert "tracks:cost-per-customer" not in result.tags
    assert first_open_step(FUNNEL, answers) is None


def test_tie_goes_to_the_first_category_in_tie_break_order():
    # Every stage at 0%: traffic is first in tie_break.
    worst = {"channels": ["email"], "visitors": ["under_500"], "intent": ["unknown"], "magnet": ["nothing"],
             "form": ["no_form"], "sequence": ["silence"], "segments": ["no"], "close_rate": ["unknown"],
             "thank_you": ["generic"]}
    assert score(FUNNEL, as_answers(FUNNEL, worst)).outcome == "traffic"
    data = minimal_quiz(
        categories=[{"id": "a", "label": "A", "outcome": "low"}, {"id": "b", "label": "B", "outcome": "high"}],
        scoring={"model": "categories"},
        questions=[{"id": "q1", "type": "single", "text": "?", "options": [
            {"value": "x", "label": "X", "weights": {"a": 2, "b": 2}},
            {"value": "y", "label": "Y", "weights": {"b": 1}}]}])
    quiz = load_data(data).definition
    assert score(quiz, {"q1": "x"}).outcome == "low"  # listed first wins the tie
    data["scoring"]["tie_break"] = ["b", "a"]
    assert score(load_data(data).definition, {"q1": "x"}).outcome == "high"


def test_percent_of_maximum_uses_the_best_answer_not_the_sum_of_options():
    quiz = load_data(minimal_quiz()).definition
    result = score(quiz, {"q1": "b", "q2": "a"})
    # best answers: 3 + 2 = 5, not 1 + 3 + 0 + 2 = 6
    assert (result.score, result.max_score, result.percent) == (Decimal(3), Decimal(5), Decimal("60.00"))
    assert result.outcome == "high"


def test_multiple_choice_maximum_respects_max_choices():
    data = minimal_quiz(questions=[{"id": "m", "type": "multiple", "text": "?", "max_choices": 2, "options": [
        {"value": "a", "label": "A", "points": 4}, {"value": "b", "label": "B", "points": 3},
        {"value": "c", "label": "C", "points": 2}, {"value": "d", "label": "D", "points": -1}]}],
        scoring={"model": "tiers", "tiers": [{"min": -1, "max": 3, "outcome": "low"},
                                             {"min": 4, "max": 7, "outcome": "high"}]})
    quiz = load_data(data).definition
    assert score(quiz, {"m": ["c", "d"]}).max_score == Decimal(7)
    assert score(quiz, {"m": ["c", "d"]}).score == Decimal(1)


def test_readiness_tiers_and_hot_lead_threshold():
    top = {"profile": ["sharp"], "channel": ["one"], "magnet": ["specific"],
           "steps": ["optin_page", "two_fields", "thank_you"], "emails": ["5"], "tracking": ["all"]}
    r = score(READINESS, as_answers(READINESS, top))
    assert (r.score, r.max_score, r.percent, r.outcome, r.lead_score) == (
        Decimal(60), Decimal(60), Decimal("100.00"), "ready", Decimal(60))
    assert r.tags == ("quiz:readiness", "tracks:full-funnel", "tier:ready", "hot-lead")
    assert r.lead_labels == ("Hot lead",)

    # 10 + 5 + 10 + 3 + 6 + 6 = 40: exactly on the guide's hot-lead threshold
    edge = {"profile": ["sharp"], "channel": ["two"], "magnet": ["specific"], "steps": ["two_fields"],
            "emails": ["3"], "tracking": ["cpl_optin"]}
    r = score(READINESS, as_answers(READINESS, edge))
    assert (r.score, r.outcome, r.tags) == (Decimal(40), "ready", ("quiz:readiness", "tier:ready", "hot-lead"))

    edge["tracking"] = ["cpl"]  # 37
    r = score(READINESS, as_answers(READINESS, edge))
    assert (r.score, r.outcome, r.tags) == (Decimal(37), "building",
                                           ("quiz:readiness", "tier:building", "warm-lead"))

    low = {"profile": ["no"], "channel": ["many"], "magnet": ["none"], "steps": ["none"], "emails": ["1"],
           "tracking": ["none"]}
    r = score(READINESS, as_answers(READINESS, low))
    assert (r.score, r.outcome, r.tags) == (Decimal(2), "foundations", ("quiz:readiness", "tier:foundations"))


def test_conditions():
    quiz = FUNNEL
    cond = quiz.question("paid_tracking").show_if
    assert holds(cond, {"channels": ["seo", "social_ads"]})
    assert not holds(cond, {"channels": ["seo"]})
    assert not holds(cond, {})
