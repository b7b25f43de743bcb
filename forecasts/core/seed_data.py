"""The seed article's forecasts: the project's first data.

The article ("U.S. and North Korea: Restart of talks, but to what end?", an
unsigned late-2019 analysis) is not stored here; each forecast carries only its
own short quoted sentence. Its full text can be attached at run time with
``load_seed_forecasts --text PATH`` so quotes can be located in it.

Dating: the article describes the October 2019 Stockholm working-level talks as
past and Stephen Biegun's nomination as Deputy Secretary of State as pending
("if he is formally nominated"; it was announced at the end of October 2019),
so it appeared in October 2019. We store 15 October 2019 with month precision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from forecasts.core.models import DatePrecision, Outcome

MADE_ON = dt.date(2019, 10, 15)
END_OF_FIRST_TERM = dt.date(2021, 1, 20)
ELECTION_DAY = dt.date(2020, 11, 3)
ELECTION_PROJECTED = dt.date(2020, 11, 7)

#: What the historical import says of the seed's estimates, dated before they were recorded.
IMPORT_REASON = (
    "The seed article, published in October 2019 (day estimated): its predictions as it "
    "worded them then, entered afterwards."
)

SOURCE = {
    "key": "seed-000-67102e3550562e4c",
    "title": "U.S. and North Korea: Restart of talks, but to what end?",
    "url": "",
    "publisher": "",
    "author": "",
    "published_on": MADE_ON,
    "published_precision": DatePrecision.MONTH,
}

FORECASTER = {
    "slug": "seed-article-analyst",
    "name": "Unnamed analyst (seed article)",
    "kind": "person",
    "description": (
        "The seed article does not name its author or publisher; its forecasts are "
        "held to account under this name until the author is identified."
    ),
}

TAGS = {
    "north-korea": "North Korea",
    "diplomacy": "Diplomacy",
    "denuclearization": "Denuclearization",
    "us-election-2020": "U.S. election 2020",
    "state-department": "State Department",
}

WIKI_RELATIONS = "https://en.wikipedia.org/wiki/North_Korea%E2%80%93United_States_relations"
WIKI_ELECTION = "https://en.wikipedia.org/wiki/2020_United_States_presidential_election"
WIKI_BIEGUN = "https://en.wikipedia.org/wiki/Stephen_Biegun"
SEED_NOTE = "Recorded from the historical record when the seed data was loaded."


@dataclass(frozen=True)
class SeedResolution:
    outcome: str
    known_on: dt.date
    evidence_url: str
    evidence_note: str


@dataclass(frozen=True)
class SeedForecast:
    slug: str
    statement: str
    quote: str
    phrase: str
    resolution_criteria: str
    resolve_by: dt.date
    tags: tuple[str, ...]
    negated: bool = False
    resolve_by_note: str = ""
    condition: str = ""
    resolution: SeedResolution | None = None


FORECASTS: tuple[SeedForecast, ...] = (
    SeedForecast(
        slug="no-deal-before-end-of-first-term",
        statement=(
            "No U.S.–North Korea deal is concluded before the end of President Trump's first "
            "term (20 January 2021)."
        ),
        quote=(
            "The most likely scenario is that a deal will remain out of reach before the end of "
            "President Trump’s first term."
        ),
        phrase="the most likely scenario",
        resolution_criteria=(
            "YES if the United States and North Korea sign no agreement on denuclearization, "
            "sanctions relief or normalization between the article and noon on 20 January 2021, "
            "when the term ended. Talks, meetings and statements of intent are not a deal."
        ),
        resolve_by=END_OF_FIRST_TERM,
        tags=("north-korea", "diplomacy"),
        resolution=SeedResolution(
            outcome=Outcome.YES,
            known_on=END_OF_FIRST_TERM,
            evidence_url=WIKI_RELATIONS,
            evidence_note=(
                "No U.S.–DPRK agreement was signed after the October 2019 Stockholm talks; the "
                "first term ended on 20 January 2021 without a deal. " + SEED_NOTE
            ),
        ),
    ),
    SeedForecast(
        slug="dprk-waits-out-2020-election",
        statement=(
            "North Korea waits out the 2020 U.S. presidential election: no new agreement or "
            "leaders' summit with the U.S. before the election result is known."
        ),
        quote="They may also decide to wait out the results of the election.",
        phrase="may",
        resolution_criteria=(
            "YES if North Korea concludes no agreement with the U.S. and no Trump–Kim summit "
            "takes place between the article and the day the 2020 result was projected."
        ),
        resolve_by=ELECTION_PROJECTED,
        resolve_by_note=(
            "'The results of the election' read as the day the result was projected by the "
            "major news organisations: 7 November 2020."
        ),
        tags=("north-korea", "diplomacy", "us-election-2020"),
        resolution=SeedResolution(
            outcome=Outcome.YES,
            known_on=ELECTION_PROJECTED,
            evidence_url=WIKI_RELATIONS,
            evidence_note=(
                "After the Stockholm talks North Korea held no further negotiations or summit "
                "with the U.S. before the election; the result was projected on 7 November "
                "2020. " + SEED_NOTE
            ),
        ),
    ),
    SeedForecast(
        slug="full-denuclearization-as-first-step",
        statement=(
            "A U.S.–North Korea deal delivers full denuclearization as its first step (before "
            "the end of President Trump's first term)."
        ),
        quote=(
            "Regardless, what is unlikely is that the deal will deliver full denuclearization "
            "as a first step."
        ),
        phrase="unlikely",
        resolution_criteria=(
            "YES if, by 20 January 2021, the two countries sign a deal whose first phase "
            "commits North Korea to complete, verifiable denuclearization."
        ),
        resolve_by=END_OF_FIRST_TERM,
        tags=("north-korea", "denuclearization"),
        resolution=SeedResolution(
            outcome=Outcome.NO,
            known_on=END_OF_FIRST_TERM,
            evidence_url=WIKI_RELATIONS,
            evidence_note="No deal of any kind was signed before 20 January 2021. " + SEED_NOTE,
        ),
    ),
    SeedForecast(
        slug="trump-wins-second-term",
        statement="Donald Trump wins the 3 November 2020 U.S. presidential election.",
        quote="At this point, Mr. Trump still appears poised for a second term in the White House.",
        phrase="appears poised",
        resolution_criteria=(
            "YES if Donald Trump wins the Electoral College vote of the 2020 election; NO if "
            "another candidate does."
        ),
        resolve_by=ELECTION_DAY,
        resolve_by_note="'Next November' is the presidential election of 3 November 2020.",
        tags=("us-election-2020",),
        resolution=SeedResolution(
            outcome=Outcome.NO,
            known_on=ELECTION_PROJECTED,
            evidence_url=WIKI_ELECTION,
            evidence_note=(
                "Trump lost the 3 November 2020 election to Joe Biden; the result was projected "
                "on 7 November 2020 and certified by Congress on 7 January 2021. " + SEED_NOTE
            ),
        ),
    ),
    SeedForecast(
        slug="north-korea-deal-sways-reelection",
        statement=(
            "A U.S.–North Korea deal, or the lack of one, significantly affects Trump's "
            "reelection chances in the 2020 election."
        ),
        quote=(
            "It is unlikely that a deal or lack thereof would significantly affect his "
            "reelection chances."
        ),
        phrase="unlikely",
        resolution_criteria=(
            "YES if post-election studies (exit polls, the major election surveys) find North "
            "Korea policy among the issues that moved a significant share of voters; NO if it "
            "does not appear among them."
        ),
        resolve_by=ELECTION_DAY,
        tags=("north-korea", "us-election-2020"),
    ),
    SeedForecast(
        slug="state-department-changes-shift-stance",
        statement=(
            "The pending State Department changes dramatically shift Washington's negotiating "
            "stance toward North Korea before the end of President Trump's first term."
        ),
        quote=(
            "Pending changes in the State Department are unlikely to impact Washington’s "
            "stance dramatically."
        ),
        phrase="unlikely",
        resolution_criteria=(
            "YES if, after the 2019–2020 State Department personnel changes, the U.S. publicly "
            "drops or reverses its core demand (denuclearization before sanctions relief and "
            "normalization) before 20 January 2021."
        ),
        resolve_by=END_OF_FIRST_TERM,
        tags=("north-korea", "state-department", "diplomacy"),
    ),
    SeedForecast(
        slug="biegun-becomes-deputy-secretary",
        statement=(
            "Stephen Biegun becomes U.S. Deputy Secretary of State before the end of President "
            "Trump's first term."
        ),
        quote=(
            "The U.S. negotiations are led by Steve Beigen, who is thought to be the next "
            "deputy secretary."
        ),
        phrase="is thought to be",
        resolution_criteria=(
            "YES if the Senate confirms Stephen Biegun (misspelled 'Beigen' in the article) as "
            "Deputy Secretary of State by 20 January 2021."
        ),
        resolve_by=END_OF_FIRST_TERM,
        tags=("state-department",),
        resolution=SeedResolution(
            outcome=Outcome.YES,
            known_on=dt.date(2019, 12, 19),
            evidence_url=WIKI_BIEGUN,
            evidence_note=(
                "The Senate confirmed Stephen Biegun (the article misspells him 'Beigen') as "
                "Deputy Secretary of State on 19 December 2019. " + SEED_NOTE
            ),
        ),
    ),
    SeedForecast(
        slug="biegun-confirmed-quickly",
        statement=(
            "Stephen Biegun is confirmed by the Senate as Deputy Secretary of State by "
            "31 January 2020."
        ),
        quote=(
            "If he is formally nominated, Mr. Beigen’s confirmation process could move quickly "
            "through the Senate"
        ),
        phrase="could",
        condition="Biegun is formally nominated as Deputy Secretary of State.",
        resolution_criteria=(
            "YES if the Senate confirms him by 31 January 2020. Conditional: annulled if he is "
            "never formally nominated."
        ),
        resolve_by=dt.date(2020, 1, 31),
        resolve_by_note=(
            "'Move quickly' read as confirmed within about three months of the article, by "
            "31 January 2020."
        ),
        tags=("state-department",),
        resolution=SeedResolution(
            outcome=Outcome.YES,
            known_on=dt.date(2019, 12, 19),
            evidence_url=WIKI_BIEGUN,
            evidence_note=(
                "He was nominated and the Senate confirmed him on 19 December 2019, within "
                "about two months. " + SEED_NOTE
            ),
        ),
    ),
    SeedForecast(
        slug="biegun-keeps-negotiating-role",
        statement=(
            "Stephen Biegun remains chief U.S. negotiator with North Korea through the end of "
            "President Trump's first term, including after becoming Deputy Secretary."
        ),
        quote="it is expected that he will retain his role as chief of the negotiating team.",
        phrase="expected",
        resolution_criteria=(
            "YES if Biegun still leads the U.S. negotiating team for North Korea (Special "
            "Representative for North Korea) on 20 January 2021."
        ),
        resolve_by=END_OF_FIRST_TERM,
        tags=("north-korea", "state-department"),
        resolution=SeedResolution(
            outcome=Outcome.YES,
            known_on=END_OF_FIRST_TERM,
            evidence_url=WIKI_BIEGUN,
            evidence_note=(
                "Biegun kept the post of Special Representative for North Korea alongside the "
                "deputy secretary post and stayed the lead negotiator until 20 January 2021. "
                + SEED_NOTE
            ),
        ),
    ),
    SeedForecast(
        slug="denuclearization-in-short-term",
        statement=(
            "U.S.–North Korea negotiations lead to North Korean denuclearization in the short "
            "term (by 15 October 2020)."
        ),
        quote="Negotiations are unlikely to lead to denuclearization in the short term",
        phrase="unlikely",
        resolution_criteria=(
            "YES if by 15 October 2020 the negotiations produce an agreement under which North "
            "Korea begins verifiable dismantlement of its nuclear weapons programme."
        ),
        resolve_by=dt.date(2020, 10, 15),
        resolve_by_note="'The short term' read as twelve months from the article.",
        tags=("north-korea", "denuclearization"),
        resolution=SeedResolution(
            outcome=Outcome.NO,
            known_on=dt.date(2020, 10, 15),
            evidence_url=WIKI_RELATIONS,
            evidence_note=(
                "Negotiations stalled after Stockholm; no denuclearization agreement or "
                "dismantlement had begun by 15 October 2020. " + SEED_NOTE
            ),
        ),
    ),
    SeedForecast(
        slug="dprk-concessions-during-campaign",
        statement=(
            "North Korea offers the U.S. new concessions during Trump's reelection campaign, "
            "before the 3 November 2020 election."
        ),
        quote=(
            "Alternatively, they could double down on concessions, hoping the president will put "
            "more on the table during his reelection campaign, but at the moment, this scenario "
            "is less probable."
        ),
        phrase="less probable",
        resolution_criteria=(
            "YES if North Korea publicly offers a new concession (a freeze, dismantlement of a "
            "site, inspections) to restart talks before 3 November 2020; NO otherwise."
        ),
        resolve_by=ELECTION_DAY,
        tags=("north-korea", "diplomacy", "us-election-2020"),
    ),
    SeedForecast(
        slug="new-trump-kim-summit",
        statement=(
            "Trump and Kim Jong Un hold a new round of leader-level negotiations before the end "
            "of Trump's first term."
        ),
        quote=(
            "The fate of a new round of negotiations between U.S. and North Korean leaders looks "
            "uncertain"
        ),
        phrase="looks uncertain",
        resolution_criteria=(
            "YES if Trump and Kim meet for negotiations (a summit) after the article and before "
            "20 January 2021."
        ),
        resolve_by=END_OF_FIRST_TERM,
        tags=("north-korea", "diplomacy"),
        resolution=SeedResolution(
            outcome=Outcome.NO,
            known_on=END_OF_FIRST_TERM,
            evidence_url=WIKI_RELATIONS,
            evidence_note=(
                "The last Trump–Kim meeting was at Panmunjom on 30 June 2019; no further summit "
                "took place before 20 January 2021. " + SEED_NOTE
            ),
        ),
    ),
    SeedForecast(
        slug="dprk-pauses-if-reelection-in-doubt",
        statement=(
            "If Trump's reelection chances are hurt, North Korea presses the pause button on "
            "negotiations until after the 2020 election."
        ),
        quote=(
            "If something affects the likeliness of a second Trump term, such as the ongoing "
            "impeachment inquiry by the U.S. Congress, the North Koreans may be further inclined "
            "to press the pause button."
        ),
        phrase="may",
        condition=(
            "Something, such as the impeachment inquiry, affects the likelihood of a second Trump "
            "term."
        ),
        resolution_criteria=(
            "Conditional. YES if the condition holds and North Korea holds no negotiations with "
            "the U.S. from then until the 3 November 2020 election; NO if it negotiates; "
            "annulled if the condition never holds."
        ),
        resolve_by=ELECTION_DAY,
        tags=("north-korea", "diplomacy", "us-election-2020"),
        resolution=SeedResolution(
            outcome=Outcome.YES,
            known_on=ELECTION_DAY,
            evidence_url=WIKI_RELATIONS,
            evidence_note=(
                "The House impeached Trump in December 2019 and his polling fell in 2020; North "
                "Korea held no negotiations with the U.S. before the election. " + SEED_NOTE
            ),
        ),
    ),
)
