"""The matcher, on its own: Spanish chat normalisation, greetings and thanks, and accuracy on a
knowledge base of a collections business against paraphrases written apart from its phrasings."""

from atiende.bots.matcher import KnowledgeMatcher, Intent, Phrased, intent_of, mentions, normalise, words
from tests.bots.faq_set import ENTRIES, OUT_OF_DOMAIN, PARAPHRASES


def _matcher() -> KnowledgeMatcher:
    return KnowledgeMatcher([Phrased(i, question, phrasings) for i, (question, phrasings, _) in enumerate(ENTRIES)],
                            {i: answer for i, (_, _, answer) in enumerate(ENTRIES)})


def test_case_accents_punctuation_and_chat_spellings_are_ignored() -> None:
    assert normalise("¿CÓMO PAGO MI FACTURA?") == normalise("como pago mi factura")
    assert words("xq q porfa holaaa") == ["porque", "que", "por", "favor", "hola"]
    assert normalise("la señora pagó") == normalise("LA SEÑORA PAGO!!")
    assert "ñ" in normalise("año")  # ñ is a letter of its own, not an n with an accent


def test_greetings_thanks_yes_and_no_are_recognised_and_never_matched_to_an_entry() -> None:
    matcher = _matcher()
    for text, intent in [("Hola", Intent.greeting), ("buenas tardes!", Intent.greeting),
                         ("muchas gracias", Intent.thanks), ("sí, gracias", Intent.thanks), ("Sí", Intent.yes),
                         ("no", Intent.no), ("   ", Intent.empty), ("hola, como pago", Intent.question)]:
        assert intent_of(text) == intent, text
    assert matcher.match("hola").candidates == ()
    assert matcher.match("gracias").candidates == ()


def test_handoff_keywords_are_found_as_words_in_any_form() -> None:
    keywords = ["asesor", "agente", "humano", "persona"]
    assert mentions("quiero hablar con un ASESOR", keywords)
    assert mentions("me comunican con una persona real?", keywords)
    assert mentions("hay asesores disponibles", keywords)
    assert not mentions("como pago mi factura", keywords)


def test_an_exact_question_is_answered_with_certainty_and_the_runner_up_is_reported() -> None:
    match = _matcher().match("¿Cómo pago mi factura?")
    assert match.best is not None and match.best.entry_id == 0 and match.best.score == 100
    assert match.runner_up is not None and match.runner_up.entry_id != 0
    assert match.confident


def test_top1_accuracy_on_paraphrases_and_wrong_answers_to_other_topics() -> None:
    matcher = _matcher()
    total = hits = 0
    for entry_id, paraphrases in enumerate(PARAPHRASES):
        for text in paraphrases:
            total += 1
            best = matcher.match(text).best
            hits += best is not None and best.entry_id == entry_id
    wrong = sum(matcher.match(text).confident for text in OUT_OF_DOMAIN)
    assert total >= 200 and len(ENTRIES) >= 40 and len(OUT_OF_DOMAIN) >= 30
    assert hits / total >= 0.9, f"top-1 accuracy {hits}/{total}"
    assert wrong / len(OUT_OF_DOMAIN) <= 0.05, f"{wrong} out-of-domain messages answered"


def test_an_empty_knowledge_base_matches_nothing() -> None:
    match = KnowledgeMatcher([]).match("como pago")
    assert match.intent == Intent.question and match.best is None and not match.plausible
