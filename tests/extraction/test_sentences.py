"""forecasts.extraction.sentences: sentence offsets into the original text."""

from forecasts.extraction.sentences import sentences


def test_sentence_offsets_index_the_original_text():
    text = (
        "Title line\n\n  • A bullet point here\nMr. Smith went to the U.S. and stayed. It rained."
    )
    spans = [text[start:end] for start, end in sentences(text)]
    assert spans == [
        "Title line",
        "A bullet point here",
        "Mr. Smith went to the U.S. and stayed.",
        "It rained.",
    ]


def test_us_abbreviation_ends_a_sentence_only_before_an_opener():
    text = "Talks with the U.S. The DPRK refused. Then U.S. officials left."
    assert [text[s:e] for s, e in sentences(text)] == [
        "Talks with the U.S.",
        "The DPRK refused.",
        "Then U.S. officials left.",
    ]
