"""The us-govinfo classification tables, tested as tables of real BILLSTATUS action texts."""

from __future__ import annotations

import pytest

from scrapers._actions import Rule, RuleTable
from scrapers.us_govinfo import TEXT_RULES, classify
from tracker.models import ActionClass

A = ActionClass

# Texts copied from the recorded samples (and, for vote outcomes the samples lack, in the same
# wording the House and Senate clerks use).
TEXTS: list[tuple[str, tuple[ActionClass, ...]]] = [
    ("Introduced in House", (A.INTRODUCTION,)),
    ("Introduced in Senate", (A.INTRODUCTION,)),
    ("Submitted in the Senate. (text: CR S1234)", (A.INTRODUCTION,)),
    ("Referred to the House Committee on the Judiciary.", (A.REFERRAL_COMMITTEE,)),
    ("Referred to the Committee on the Judiciary, and in addition to the Committees on Ways and "
     "Means, Armed Services, Education and Labor, for a period to be subsequently determined by "
     "the Speaker", (A.REFERRAL_COMMITTEE,)),
    ("Referred to the Subcommittee on Immigration and Citizenship.", (A.REFERRAL_COMMITTEE,)),
    ("Read twice and referred to the Committee on Health, Education, Labor, and Pensions.",
     (A.REFERRAL_COMMITTEE,)),
    ("Received in the Senate and Read twice and referred to the Committee on the Judiciary.",
     (A.REFERRAL_COMMITTEE, A.RECEIPT)),
    ("Received in the House.", (A.RECEIPT,)),
    ("Held at the desk.", ()),
    ("Veto message received in Senate. Ordered held at the desk.", ()),
    ("Committee on the Judiciary. Reported by Senator Grassley without amendment. Without "
     "written report.", (A.COMMITTEE_PASSAGE,)),
    ("Reported (Amended) by the Committee on Natural Resources. H. Rept. 114-602, Part I.",
     (A.COMMITTEE_PASSAGE,)),
    ("Committee on the Judiciary. Ordered to be reported without amendment favorably.",
     (A.COMMITTEE_PASSAGE,)),
    ("Ordered to be Reported (Amended) by the Yeas and Nays: 29 - 10.", (A.COMMITTEE_PASSAGE,)),
    ("Rules Committee Resolution H. Res. 233 Reported to House. Rule provides for consideration "
     "of H.R. 1620, H.R. 6, H.R. 1603, H.R. 1868 and H.J. Res. 17.", ()),
    ("Rule H. Res. 152 passed House.", ()),
    ("Committee on the Judiciary. Hearings held.", ()),
    ("Committee on the Judiciary discharged.", ()),
    ("Senate Committee on Banking, Housing, and Urban Affairs discharged by Unanimous Consent.",
     ()),
    ("Passed Senate with an amendment by Unanimous Consent. (text of amendment in the nature of "
     "a substitute: CR S694-695)", (A.PASSAGE,)),
    ("Passed Senate without amendment by Yea-Nay Vote. 53 - 46. Record Vote Number: 67.",
     (A.PASSAGE,)),
    ("Passed/agreed to in House: On passage Passed by the Yeas and Nays: 228 - 197 (Roll no. "
     "91).(text: CR H1507-1512)", (A.PASSAGE,)),
    ("On passage Passed by recorded vote: 297 - 127 (Roll no. 288).", (A.PASSAGE,)),
    ("On motion to suspend the rules and pass the bill Agreed to by the Yeas and Nays: (2/3 "
     "required): 363 - 52 (Roll no. 439).", (A.PASSAGE,)),
    ("Pursuant to section 8 of H. Res. 504, and the motion offered by Mr. McGovern, the "
     "following bills passed under suspension of the rules: H.R. 1500", (A.PASSAGE,)),
    ("On motion to suspend the rules and pass the bill Failed by the Yeas and Nays: (2/3 "
     "required): 230 - 190 (Roll no. 12).", (A.FAILURE,)),
    ("On passage Failed by the Yeas and Nays: 180 - 240 (Roll no. 99).", (A.FAILURE,)),
    ("Failed of passage in Senate by Yea-Nay Vote. 45 - 55. Record Vote Number: 12.",
     (A.FAILURE,)),
    ("On motion to recommit Failed by the Yeas and Nays: 203 - 216 (Roll no. 90).", ()),
    ("Mr. Jordan moved to recommit to the Committee on the Judiciary. (text: CR H1526)", ()),
    ("Motion to reconsider laid on the table Agreed to without objection.", ()),
    ("Motion to proceed to consideration of measure agreed to in Senate by Yea-Nay Vote. 53 - "
     "45. Record Vote Number: 66.", ()),
    ("Motion by Senator Schumer to concur in the House amendment to the Senate amendment to H.R. "
     "2471 with an amendment (SA 4984) withdrawn in Senate.", ()),
    ("Cloture motion on the measure invoked in Senate by Yea-Nay Vote. 70 - 30.", ()),
    ("Cloture on the motion to proceed to the measure not invoked in Senate by Yea-Nay Vote. "
     "52 - 47.", ()),
    ("Cloture motion on the motion to proceed to the measure presented in Senate.", ()),
    ("Motion to table the veto message to accompany S. J. Res. 8 agreed to in Senate by "
     "Yea-Nay Vote. 96 - 3. Record Vote Number: 172.", ()),
    ("Resolution agreed to in Senate without amendment and with a preamble by Unanimous "
     "Consent.", (A.PASSAGE,)),
    ("Received in the Senate, considered, and agreed to without amendment by Unanimous Consent.",
     (A.PASSAGE, A.RECEIPT)),
    ("On motion to suspend the rules and agree to the concurrent resolution Agreed to by voice "
     "vote.", (A.PASSAGE,)),
    ("On agreeing to the resolution Agreed to by the Yeas and Nays: 220 - 210 (Roll no. 5).",
     (A.PASSAGE,)),
    ("Conference report agreed to in Senate by Yea-Nay Vote. 87 - 13.", (A.PASSAGE,)),
    ("On agreeing to the conference report Agreed to by the Yeas and Nays: 359 - 65.",
     (A.PASSAGE,)),
    ("Conference report H. Rept. 116-333 filed.", ()),
    ("On agreeing to the Torres amendment (A008) Failed by recorded vote: 196 - 225 (Roll no. "
     "287).", (A.AMENDMENT_FAILURE,)),
    ("On agreeing to the Serrano amendment (A007) Agreed to by voice vote.",
     (A.AMENDMENT_PASSAGE,)),
    ("Amendment SA 4990 not agreed to in Senate by Yea-Nay Vote. 35 - 64.",
     (A.AMENDMENT_FAILURE,)),
    ("Amendment SA 4902 agreed to in Senate by Unanimous Consent.", (A.AMENDMENT_PASSAGE,)),
    ("Presented to President.", (A.EXECUTIVE_RECEIPT,)),
    ("Signed by President.", (A.EXECUTIVE_SIGNATURE,)),
    ("Became Public Law No: 117-103.", (A.BECAME_LAW,)),
    ("Vetoed by President. (text of veto message: CR 4/13/2015 S2094, S2107)",
     (A.EXECUTIVE_VETO,)),
    ("Pocket Vetoed by President.", (A.EXECUTIVE_VETO,)),
    ("Passed Senate over veto by Yea-Nay Vote. 97 - 1.", (A.VETO_OVERRIDE_PASSAGE,)),
    ("Passed over President's veto by the Yeas and Nays: (2/3 required): 322 - 87.",
     (A.VETO_OVERRIDE_PASSAGE,)),
    ("On passage, the objections of the President to the contrary notwithstanding Passed by "
     "the Yeas and Nays: (2/3 required): 348 - 48.", (A.VETO_OVERRIDE_PASSAGE,)),
    ("Failed of passage in Senate over veto by Yea-Nay Vote. 54 - 45.",
     (A.VETO_OVERRIDE_FAILURE,)),
    ("Message on Senate action sent to the House.", ()),
    ("Senate agreed to the House amendment to the Senate Amendment to H.R. 2471", ()),
    ("Sponsor introductory remarks on measure. (CR S2798)", ()),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), TEXTS, ids=[t[:60] for t, _ in TEXTS])
def test_text_rules(text: str, expected: tuple[ActionClass, ...]) -> None:
    assert TEXT_RULES.classify(text) == expected


CODES: list[tuple[list[str], str, tuple[ActionClass, ...]]] = [
    (["1000", "Intro-H"], "Introduced in House", (A.INTRODUCTION,)),
    (["10000"], "Introduced in Senate", (A.INTRODUCTION,)),
    (["H11100", "H11100-A"], "Referred to the Committee on Natural Resources",
     (A.REFERRAL_COMMITTEE,)),
    (["5000", "H12200"], "Reported (Amended) by the Committee on Natural Resources.",
     (A.COMMITTEE_PASSAGE,)),
    (["17000"], "Passed Senate without amendment by Unanimous Consent.", (A.PASSAGE,)),
    (["H37100", "8000"], "On passage Passed by the Yeas and Nays: 228 - 197", (A.PASSAGE,)),
    (["H14000"], "Received in the House.", (A.RECEIPT,)),
    (["H15000"], "Held at the desk.", ()),
    (["14500"], "Senate Committee on Foreign Relations discharged by Unanimous Consent.", ()),
    (["28000", "E20000"], "Presented to President.", (A.EXECUTIVE_RECEIPT,)),
    # E30000 and 36000 are ambiguous upstream: the text decides.
    (["36000", "E30000"], "Signed by President.", (A.EXECUTIVE_SIGNATURE,)),
    (["E30000"], "Vetoed by President.", (A.EXECUTIVE_VETO,)),
    (["31000", "E30000"], "Vetoed by President.", (A.EXECUTIVE_VETO,)),
    (["36000", "E40000"], "Became Public Law No: 117-210.", (A.BECAME_LAW,)),
    # House vote codes carry both outcomes: the text decides.
    (["H37300"], "On motion to suspend the rules and pass the bill Failed by the Yeas and Nays",
     (A.FAILURE,)),
    (["H38310"], "Motion to reconsider laid on the table Agreed to without objection.", ()),
    ([], "Passed Senate with an amendment by Voice Vote.", (A.PASSAGE,)),
]  # fmt: skip


@pytest.mark.parametrize(("codes", "text", "expected"), CODES, ids=[t[:50] for _, t, _ in CODES])
def test_codes_first_then_text(
    codes: list[str], text: str, expected: tuple[ActionClass, ...]
) -> None:
    assert classify(text, codes=codes) == expected


def test_rule_table_stops_and_orders() -> None:
    table = RuleTable([
        Rule(r"^ignore", (), stop=True),
        Rule(r"passed", (A.PASSAGE,)),
        Rule(r"introduced", (A.INTRODUCTION,)),
        Rule(r"PASSED", (A.PASSAGE,)),
    ])  # fmt: skip
    assert table.classify("Passed and introduced") == (A.INTRODUCTION, A.PASSAGE)
    assert table.classify("Ignore: passed and introduced") == ()
    assert table.classify("nothing here") == ()
    assert len(table) == 4


def test_rule_refuses_a_list_of_classes() -> None:
    with pytest.raises(TypeError):
        Rule(r"x", [A.PASSAGE])  # type: ignore[arg-type]
