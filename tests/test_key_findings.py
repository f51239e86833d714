"""The key findings page (report/key-findings.qmd, issue 15 item 1) holds to results.json.

* Every number it quotes is a ``{{< var kf.* >}}`` whose value this test recomputes from
  results.json (and, for the base rate and the chart, from the headline sample), formatted here
  independently of analysis/outputs/numbers_keyfindings.py.
* Every sentence is held to the estimates it words: "fewer"/"more"/"higher" after a size match
  the sign, "no clear association" / "not clear" mean intervals that include zero, "larger"
  compares sizes, "can neither confirm nor rule out" means a within-council interval that holds
  both zero and the headline estimate, "narrows" compares the adjusted and raw gaps, and so on (:data:`SENTENCE_CHECKS`, one per sentence: a
  new sentence without a check fails).
* It has three to five findings of one sentence each, quotes the base rate, names no estimator
  and holds no code, file name or JSON key.
* The chart's numbers are checked against independent computations: Wilson intervals against
  statsmodels, the adjusted shares against a statsmodels logit with a numerical-gradient delta
  method, against an LA-cluster bootstrap, and against a simulation with known shares.

The checking functions are tested on altered text and values: each fails when a number or a
word is wrong.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import special

from analysis import paths
from analysis.render.lite import VAR_RE, lookup

from test_reading_rules import code_violations

pytestmark = pytest.mark.usefixtures("outputs_built")

KF = paths.ROOT / "report" / "key-findings.qmd"
RESULTS = paths.ROOT / "report" / "outputs" / "results" / "results.json"
VARIABLES = paths.ROOT / "_variables.yml"
TERMS = {"agency": "agency_rate", "caseload": "caseload", "vacancy": "vacancy_rate", "turnover": "turnover_rate"}
#: estimator and method names a council officer should not meet on the first page
ESTIMATOR_NAMES = re.compile(
    r"(?i)\b(?:ordered|logit|logistic|probit|Holm|Callaway|Sant'?Anna|CRE|TWFE|fixed[- ]effects?|"
    r"random[- ]effects?|random[- ]intercept|Mundlak|Wooldridge|multilevel|conditional|OLS|LPM|"
    r"regression|Hausman|Romano|Brant|marginal effect|AME|difference[- ]in[- ]differences|event study|"
    r"multiverse|specification|Rambachan|honest|standardis|delta method|bootstrap)\b")


# ------------------------------------------------------------------------------ reading the page
def source() -> str:
    return KF.read_text(encoding="utf-8")


def findings(text: str) -> list[str]:
    """The bullet items of the key-findings list (source, each joined to one line)."""
    items, current = [], None
    for line in text.split("\n"):
        if line.startswith("* "):
            current = [line[2:].strip()]
            items.append(current)
        elif current is not None and line.startswith("  ") and line.strip():
            current.append(line.strip())
        else:
            current = None if not line.strip() or not line.startswith("  ") else current
    return [" ".join(i) for i in items]


def render(text: str, variables: dict) -> str:
    return VAR_RE.sub(lambda m: lookup(variables, m.group(1), "key findings"), text)


def load():
    res = json.loads(RESULTS.read_text())
    v = yaml.safe_load(VARIABLES.read_text(encoding="utf-8"))
    return res, v


# ------------------------------------------------------------------------------ independent numbers
VARIANTS = {"": None, ".within": None, ".no_feedback": "without_feedback_controls",
            ".census_later": "census_2017_plus", ".dynamic": None}


def headline_terms(res: dict) -> tuple[str, dict, dict]:
    """(design, overall, by variant) estimates the page must quote: the primary block of
    results.json; variants: "" (primary), ".within" (LA fixed effects, within councils) and the
    primary's sensitivities. Each estimate is (delta, pp, low, high)."""
    p = res["primary"]
    fe = res["forward"]["magnitudes"]["fe_good_or_better"]
    by = {".within": {k: (fe[t]["delta"], fe[t]["effect"], fe[t]["effect_low"], fe[t]["effect_high"])
                      for k, t in TERMS.items()}}
    dyn = res["dynamic_cre"]["models"]["good_or_better"]["ame_pp"]
    by[".dynamic"] = {k: (dyn[t]["change"], dyn[t]["ame_pp"], dyn[t]["ci_low"], dyn[t]["ci_high"])
                      for k, t in TERMS.items()}
    for suffix, name in VARIANTS.items():
        if suffix in (".within", ".dynamic"):
            continue
        terms = p["terms"] if name is None else p["sensitivities"][name]["terms"]
        by[suffix] = {k: (terms[t]["delta"], terms[t]["ame_pp"], terms[t]["ci_low"], terms[t]["ci_high"])
                      for k, t in TERMS.items()}
    return "primary", by[""], by


def one(x: float) -> str:
    return f"{abs(x):.1f}"


def words(lo: float, hi: float, less: str = "fewer", more: str = "more") -> str:
    if hi < 0:
        return f"between {one(hi)} and {one(lo)} percentage points {less}"
    if lo > 0:
        return f"between {one(lo)} and {one(hi)} percentage points {more}"
    return f"from {one(lo)} percentage points {less} to {one(hi)} {more}"


def _model(res: dict, model_id: str) -> dict:
    for m in [*res["models"], *res["forward"]["models"]]:
        if m["model_id"] == model_id:
            return m
    raise KeyError(model_id)


@pytest.fixture(scope="module")
def sample():
    """The headline sample rebuilt from the derived data, and its agency quarters (pandas qcut)."""
    from analysis.derived import load_derived
    from analysis.outputs.figures_keyfindings import headline_sample
    panel, insp = load_derived()
    df, controls = headline_sample(panel, insp)
    df = df.assign(q=pd.qcut(df["agency_rate"], 4, labels=False))
    return df, controls


def expected_values(res: dict, df: pd.DataFrame) -> dict[str, str]:
    """kf variable -> the value it must have, formatted here."""
    design, overall, by = headline_terms(res)
    base, n = res["primary"]["base_rate_good_plus"], res["primary"]["n"]
    assert abs(base - df["good_or_better"].mean()) < 1e-12, "the base rate is the chart's sample's"
    out = {"kf.design": design, "kf.base_rate": f"{100 * base:.0f}%", "kf.n": f"{n:,}",
           "kf.n_las": str(df["la_code"].nunique()), "kf.first_year": str(df["inspection_year"].min()),
           "kf.last_year": str(df["inspection_year"].max())}
    assert len(df) == n, "the chart's sample is the headline model's"
    changes = {"agency": "{:g} percentage points more of the social work workforce employed through agencies",
               "caseload": "{:g} more cases per social worker"}
    for key in TERMS:
        for suffix in VARIANTS:
            prefix = f"kf.{key}{suffix}"
            delta, pp, lo, hi = by[suffix][key]
            out[f"{prefix}.size"] = one(pp)
            out[f"{prefix}.range"] = words(lo, hi)
            out[f"{prefix}.pp"] = f"{pp:.1f}".replace("-", "\u2212") if round(pp, 1) != 0 else "0.0"
            out[f"{prefix}.ci"] = "[{},\u00a0{}]".format(*(f"{x:.1f}".replace("-", "\u2212") if round(x, 1) != 0
                                                          else "0.0" for x in (lo, hi)))
            if key in changes:
                out[f"{prefix}.change"] = changes[key].format(delta)
    out["kf.multiple.n_all"] = str(len(res["family_tests"]["tests"]))
    out["kf.multiple.n_headline"] = str(sum(v["group"] == "headline" for v in res["family_tests"]["tests"].values()))
    raw = df.groupby("q")["good_or_better"].mean()
    adj = adjusted_shares(df)
    out["kf.adjusted.high_share"], out["kf.adjusted.low_share"] = f"{100 * adj[3]:.0f}%", f"{100 * adj[0]:.0f}%"
    out["kf.raw.high_share"], out["kf.raw.low_share"] = f"{100 * raw[3]:.0f}%", f"{100 * raw[0]:.0f}%"
    out["kf.quarter.high_min"] = f"{df['agency_rate'].quantile(0.75):.0f}%"
    out["kf.quarter.low_max"] = f"{df['agency_rate'].quantile(0.25):.0f}%"
    rv = _model(res, "rev_cs_never_absorbing_vacancy_rate")
    k0 = rv["coefficients"]["k=0"]
    out["kf.reverse.n_events"] = str(rv["stats"]["n_events"])
    out["kf.reverse.vacancy_size"] = one(k0["estimate"])
    out["kf.reverse.vacancy_range"] = words(k0["ci_low"], k0["ci_high"], "lower", "higher")
    ra = _model(res, "rev_cs_never_absorbing_agency_rate")
    out["kf.reverse.agency_pretrend"] = (
        "without a clear earlier trend" if not ra["stats"]["pre_trend_fail"]
        else "already rising" if ra["coefficients"]["k=-2"]["estimate"] < 0 else "already falling")
    return out


def adjusted_shares(df: pd.DataFrame) -> np.ndarray:
    """The chart's adjusted shares by quarter, recomputed with statsmodels (see below)."""
    from analysis.outputs.figures_keyfindings import headline_sample
    from analysis.derived import load_derived
    _, controls = headline_sample(*load_derived())
    return np.array([s for s, _ in _statsmodels_shares(df, controls)[0]])


def value_problems(v: dict, expected: dict[str, str]) -> list[str]:
    bad = []
    for key, want in expected.items():
        got = lookup(v, key, "test")
        if got != want:
            bad.append(f"{key}: {got!r}, results.json gives {want!r}")
    return bad


# ------------------------------------------------------------------------------ sentence checks
SIZE_WORD_RE = re.compile(r"\{\{< var kf\.(\w+)((?:\.\w+)?)\.size >\}\} percentage\s+points\s+(fewer|more)")


def sign_problems(sentence: str, res: dict) -> list[str]:
    """A size followed by "fewer"/"more" must have that sign."""
    _, _, by = headline_terms(res)
    bad = []
    for key, w, word in SIZE_WORD_RE.findall(sentence):
        est = by[w][key][1]
        if (word == "fewer") != (est < 0):
            bad.append(f"kf.{key}{w}: '{word}' but the estimate is {est:+.2f}")
    return bad


def _includes_zero(lo, hi) -> bool:
    return lo <= 0 <= hi


def check_base(s: str, res: dict, df: pd.DataFrame) -> list[str]:
    ok = "{{< var kf.base_rate >}} were judged Good or Outstanding" in s and "kf.n >}}" in s
    return [] if ok else ["the first finding must quote the base rate of Good or Outstanding"]


def check_agency(s: str, res: dict, df: pd.DataFrame) -> list[str]:
    _, overall, _ = headline_terms(res)
    bad = []
    if "less often judged Good or better" in s and not overall["agency"][3] < 0:
        bad.append("'less often' but the agency interval reaches zero")
    raw, adj = df.groupby("q")["good_or_better"].mean(), adjusted_shares(df)
    first = s.split("against")[0]
    if not ("most" in first and "{{< var kf.raw.high_share >}}" in first and raw[3] < raw[0]):
        bad.append("the quarter with the most agency use must be quoted first and be the lower")
    if "a gap that narrows to {{< var kf.adjusted.high_share >}} against {{< var kf.adjusted.low_share >}}" in s:
        if not 0 < adj[0] - adj[3] < raw[0] - raw[3]:
            bad.append(f"'narrows' but the adjusted gap is {adj[0] - adj[3]:.3f} against {raw[0] - raw[3]:.3f}")
    else:
        bad.append("the agency finding must say what adjustment does to the gap")
    bad += multiple_problems(s, res)
    return bad


def multiple_problems(s: str, res: dict) -> list[str]:
    """The agency finding says whether the association survives the adjustment for the number of
    comparisons: within the primary's four measures (Holm, recomputed here with statsmodels from
    the four raw p-values) and across every quoted test (recomputed from the family's raw p)."""
    from statsmodels.stats.multitest import multipletests
    terms = res["primary"]["terms"]
    order = list(terms)
    design = dict(zip(order, multipletests([terms[t]["p_value"] for t in order], method="holm")[1]))["agency_rate"]
    tests = res["family_tests"]["tests"]
    keys = list(tests)
    fam = dict(zip(keys, multipletests([tests[k]["p_value"] for k in keys], method="holm")[1]))
    everything = fam["primary_logit_good_plus:agency_rate"]
    if abs(tests["primary_logit_good_plus:agency_rate"]["p_value"] - terms["agency_rate"]["p_value"]) > 1e-10:
        return ["the family's primary agency test is not the primary design's"]
    bad = []
    within = "stays clear when the four workforce measures tested together are allowed for"
    across_not = "but not when all {{< var kf.multiple.n_all >}} comparisons of workforce measures the report makes are counted"
    across = "and also when all {{< var kf.multiple.n_all >}} comparisons of workforce measures the report makes are counted"
    if within not in s:
        bad.append("the agency finding must say whether it survives the adjustment for the four measures")
    elif not design < 0.05:
        bad.append(f"'stays clear' for the four measures but the adjusted p is {design:.3f}")
    if across_not in s:
        if everything < 0.05:
            bad.append(f"'not when all comparisons are counted' but the adjusted p is {everything:.3f}")
    elif across in s:
        if everything >= 0.05:
            bad.append(f"'also when all comparisons are counted' but the adjusted p is {everything:.3f}")
    else:
        bad.append("the agency finding must say whether it survives across all the comparisons the report makes")
    return bad


def check_caseload(s: str, res: dict, df: pd.DataFrame) -> list[str]:
    _, overall, by = headline_terms(res)
    bad = []
    inc = _includes_zero(*overall["caseload"][2:])
    if s.startswith("For caseload the evidence is not clear") != inc:
        bad.append(f"caseload 'not clear' / clear does not match its interval {overall['caseload'][2:]}")
    if "clear only for inspections matched to censuses from" in s:
        if _includes_zero(*by[".census_later"]["caseload"][2:]):
            bad.append("'clear only when limited to the later censuses' but that interval includes zero")
    if "vacancies and turnover show no clear association" in s:
        for key in ("vacancy", "turnover"):
            if not _includes_zero(overall[key][2], overall[key][3]):
                bad.append(f"'no clear association' but the {key} interval excludes zero")
    else:
        bad.append("the caseload finding must say what vacancies and turnover show")
    return bad


def check_comparisons(s: str, res: dict, df: pd.DataFrame) -> list[str]:
    _, overall, by = headline_terms(res)
    bad = []
    o = overall["agency"][1]
    if "gives a larger estimate for agency use" in s and not abs(by[".no_feedback"]["agency"][1]) > abs(o):
        bad.append("'larger without the previous judgement' but it is not")
    _, w, lo, hi = by[".within"]["agency"]
    if "neither confirm nor rule out" in s and not (_includes_zero(lo, hi) and lo <= o <= hi):
        bad.append(f"'neither confirm nor rule out' but the within interval [{lo:.1f}, {hi:.1f}]")
    if "started from the same first judgement" in s:
        d = by[".dynamic"]["agency"]
        if "an interval that includes no association" in s and not _includes_zero(d[2], d[3]):
            bad.append(f"'includes no association' but the first-judgement interval is [{d[2]:.1f}, {d[3]:.1f}]")
        if "an interval that includes no association" not in s and _includes_zero(d[2], d[3]):
            bad.append("the first-judgement comparison must say its interval includes no association")
    else:
        bad.append("the comparisons finding must give the comparison with the first judgement")
    if "previous judgement, which goes with both its workforce and its next grade" in s:
        p_grade = _model(res, "fwd_prevgrade_ologit")["coefficients"]["prev_grade"]["p_value"]
        vac = _model(res, "rev_cs_never_absorbing_vacancy_rate")["coefficients"]["k=0"]
        if not (p_grade < 0.05 and vac["ci_low"] > 0):
            bad.append("the previous judgement does not clearly go with the next grade and the workforce")
    return bad


def check_reverse(s: str, res: dict, df: pd.DataFrame) -> list[str]:
    bad = []
    if "not proof" not in s or "cannot tell which way" not in s:
        bad.append("the last finding must say the data show neither causation nor direction")
    k0 = lambda o: _model(res, f"rev_cs_never_absorbing_{o}")["coefficients"]["k=0"]  # noqa: E731
    if "vacancy_size >}} percentage points higher" in s and not k0("vacancy_rate")["estimate"] > 0:
        bad.append("'vacancy rate ... higher' but the estimate is not positive")
    if "mostly because it had more posts to fill" in s:
        if not (k0("log_posts")["ci_low"] > 0 and _includes_zero(k0("log_inpost")["ci_low"], k0("log_inpost")["ci_high"])):
            bad.append("'more posts to fill' but posts did not clearly rise or staff in post clearly changed")
    if "agency use was higher too" in s and not k0("agency_rate")["ci_low"] > 0:
        bad.append("'agency use was higher too' but its interval reaches zero")
    return bad


#: one check per finding, in order, each identified by its opening words
SENTENCE_CHECKS = [("Of the", check_base), ("Councils using more agency", check_agency),
                   ("For caseload the evidence is", check_caseload), ("The size depends on the comparison", check_comparisons),
                   ("These are associations", check_reverse)]


def sentence_problems(text: str, res: dict, df: pd.DataFrame) -> list[str]:
    items = findings(text)
    if len(items) != len(SENTENCE_CHECKS):
        return [f"{len(items)} findings, {len(SENTENCE_CHECKS)} checks: give each new sentence a check"]
    bad = []
    for item, (opening, check) in zip(items, SENTENCE_CHECKS):
        if not item.startswith(opening):
            bad.append(f"finding {item[:40]!r} does not open with {opening!r}")
            continue
        bad += sign_problems(item, res) + check(item, res, df)
    return bad


# ------------------------------------------------------------------------------ the tests
def test_every_number_on_the_page_is_the_one_results_give(sample):
    res, v = load()
    exp = expected_values(res, sample[0])
    assert value_problems(v, exp) == []
    used = set(VAR_RE.findall(source()))
    assert {k for k in used if k.startswith("kf.")} <= set(exp)


def test_the_page_quotes_the_headline_design():
    res, v = load()
    assert "primary" in res and v["kf"]["design"] == "primary"


def test_each_sentence_holds_in_the_results(sample):
    res, _ = load()
    assert sentence_problems(source(), res, sample[0]) == []


def test_three_to_five_one_sentence_findings_with_the_base_rate_first():
    res, v = load()
    items = [render(i, v) for i in findings(source())]
    assert 3 <= len(items) <= 5
    for item in items:
        assert len(re.split(r"(?<=[a-z)%])[.!?]\s+(?=[A-Z])", item)) == 1, item
        assert item.endswith("."), item
    assert v["kf"]["base_rate"] in items[0] and "Good or Outstanding" in items[0]


def test_no_estimator_name_code_or_json_key_on_the_page():
    _, v = load()
    page = re.sub(r"\{#[^}]*\}", " ", render(source(), v))
    page = re.sub(r'fig-alt="[^"]*"', " ", page)  # the alt text is checked below, with the page
    page = re.sub(r"\]\([^)]*\)|\[@[\w-]+\]|@(?:fig|sec|tbl)-[\w-]+", " ", page)
    alt = v["alt"]["fig_key_findings"]
    for text in (page, alt):
        assert not ESTIMATOR_NAMES.search(text), ESTIMATOR_NAMES.search(text).group(0)
        assert code_violations(text) == set()
        assert "`" not in text and not re.search(r"\bkf\.|results\.json|_variables", text)


def test_is_my_council_typical_points_to_the_lookup_and_the_maps():
    text = source()
    para = text[text.index("**Is my council typical?**"):].split("\n\n")[0]
    assert "(#sec-lookup)" in para and "@sec-maps" in para


def test_key_findings_come_first_in_the_report():
    report = (paths.ROOT / "report" / "report.qmd").read_text(encoding="utf-8")
    includes = re.findall(r"\{\{< include (\S+) >\}\}", report)
    assert includes[0] == "key-findings.qmd" and includes[1] == "summary.qmd"


# -- the checks can fail ----------------------------------------------------------------------
def test_a_wrong_word_fails_each_sentence_check(sample):
    res, _ = load()
    text = source()
    assert sentence_problems(text, res, sample[0]) == []
    flat = re.sub(r"\n  ", " ", text)
    wrong = [
        flat.replace("{{< var kf.agency.size >}} percentage points fewer", "{{< var kf.agency.size >}} percentage points more"),
        flat.replace("{{< var kf.agency.no_feedback.size >}} percentage points fewer", "{{< var kf.agency.no_feedback.size >}} percentage points more"),
        flat.replace("gives a larger estimate for agency use", "gives a larger estimate for agency use").replace(
            "For caseload the evidence is not clear", "For caseload the evidence is clear"),
        flat.replace("a gap that narrows to", "a gap that widens to"),
        flat.replace("{{< var kf.raw.high_share >}} were judged Good or better against {{< var kf.raw.low_share >}}",
                     "{{< var kf.raw.low_share >}} were judged Good or better against {{< var kf.raw.high_share >}}"),
        flat.replace("{{< var kf.base_rate >}} were judged", "most were judged"),
        flat.replace("not proof", "proof"),
        flat.replace("* For caseload", "* On caseload"),
        flat.replace("but not when all {{< var kf.multiple.n_all >}}", "and also when all {{< var kf.multiple.n_all >}}"),
        flat.replace("stays clear when the four workforce measures", "is clear when the four workforce measures"),
        flat.replace("{{< var kf.agency.dynamic.size >}} percentage points fewer", "{{< var kf.agency.dynamic.size >}} percentage points more"),
        flat.replace("started from the same first judgement", "started alike"),
    ]
    for t in wrong:
        assert t != flat
        assert sentence_problems(t, res, sample[0]), t[:80]
    # a word the results contradict: claim vacancies go with the judgement when they do not
    fake = json.loads(json.dumps(res))
    p = fake["primary"]["terms"]["vacancy_rate"]
    p["ci_low"], p["ci_high"] = 1.0, 5.0
    assert any("vacancy" in b for b in sentence_problems(flat, fake, sample[0]))
    # the adjustment words against results that say otherwise
    fake = json.loads(json.dumps(res))
    for v in fake["family_tests"]["tests"].values():
        v["p_value"] = min(v["p_value"], 1e-6)
    fake["primary"]["terms"]["agency_rate"]["p_value"] = 1e-6
    assert any("all comparisons" in b for b in sentence_problems(flat, fake, sample[0]))
    fake = json.loads(json.dumps(res))
    for t in fake["primary"]["terms"].values():
        t["p_value"] = 0.04
    assert any("four measures" in b or "primary agency test" in b for b in sentence_problems(flat, fake, sample[0]))
    fake = json.loads(json.dumps(res))
    fake["dynamic_cre"]["models"]["good_or_better"]["ame_pp"]["agency_rate"]["ci_high"] = -0.5
    assert any("first-judgement" in b for b in sentence_problems(flat, fake, sample[0]))


def test_a_wrong_number_fails_the_value_check(sample):
    res, v = load()
    exp = expected_values(res, sample[0])
    for key in ("kf.agency.size", "kf.base_rate", "kf.agency.within.range", "kf.caseload.census_later.range",
                "kf.agency.no_feedback.size", "kf.adjusted.high_share", "kf.reverse.vacancy_range", "kf.agency.ci",
                "kf.agency.dynamic.size", "kf.agency.dynamic.range", "kf.multiple.n_all"):
        bad = json.loads(json.dumps(v))
        node = bad
        *head, last = key.split(".")
        for part in head:
            node = node[part]
        node[last] = node[last] + "0"
        assert value_problems(bad, exp), key


# -- the chart's numbers, independently ----------------------------------------------------------
def test_wilson_intervals_match_statsmodels():
    from statsmodels.stats.proportion import proportion_confint
    from analysis.models.quarters import wilson_interval
    for k, n in [(0, 10), (3, 10), (64, 87), (37, 86), (86, 86)]:
        assert wilson_interval(k, n) == pytest.approx(proportion_confint(k, n, method="wilson"), abs=1e-12)


def _statsmodels_shares(df: pd.DataFrame, controls: list[str]):
    """Standardised shares and delta-method SEs from a statsmodels logit (numerical gradient)."""
    import statsmodels.api as sm
    d = df.sort_values("la_code", kind="mergesort").reset_index(drop=True)
    q = pd.qcut(d["agency_rate"], 4, labels=False).to_numpy()
    dummies = np.column_stack([(q == k).astype(float) for k in (1, 2, 3)])
    x = np.column_stack([np.ones(len(d)), dummies, d[controls].to_numpy(float)])
    res = sm.Logit(d["good_or_better"].to_numpy(float), x).fit(
        disp=False, cov_type="cluster", cov_kwds={"groups": pd.factorize(d["la_code"])[0]}, maxiter=200)
    params, cov = np.asarray(res.params), np.asarray(res.cov_params())

    def share(b, k):
        xq = x.copy()
        xq[:, 1:4] = 0.0
        if k:
            xq[:, k] = 1.0
        return special.expit(xq @ b).mean()

    out = []
    for k in range(4):
        g = np.array([(share(params + h, k) - share(params - h, k)) / 2e-6 for h in np.eye(len(params)) * 1e-6])
        out.append((share(params, k), float(np.sqrt(g @ cov @ g))))
    return out, x, d, q


def test_adjusted_shares_match_statsmodels_and_a_cluster_bootstrap(sample):
    from analysis.models.fast_logit import fit_logit
    from analysis.models.quarters import Z95, quarter_table
    df, controls = sample
    t = quarter_table(df, controls).query("kind == 'adjusted'").sort_values("quarter")
    ref, x, d, q = _statsmodels_shares(df, controls)
    for (_, row), (s, se) in zip(t.iterrows(), ref):
        assert row["share"] == pytest.approx(s, abs=1e-5)
        assert (row["ci_high"] - row["ci_low"]) / (2 * Z95) == pytest.approx(se, rel=1e-3)
    # LA-cluster bootstrap (fixed seed): the delta-method SEs are of the right size
    rng = np.random.default_rng(20261204)
    las = d["la_code"].to_numpy()
    ids = np.unique(las)
    rows = {la: np.flatnonzero(las == la) for la in ids}
    y = d["good_or_better"].to_numpy(float)
    draws = []
    for _ in range(200):
        pick = np.concatenate([rows[la] for la in rng.choice(ids, len(ids))])
        # point estimates only: each row its own "cluster" for the (unused) covariance
        fit = fit_logit(x[pick], y[pick], np.arange(len(pick)), max_iter=100)
        if not fit.converged:
            continue
        shares = []
        for k in range(4):
            xq = x.copy()
            xq[:, 1:4] = 0.0
            if k:
                xq[:, k] = 1.0
            shares.append(special.expit(xq @ fit.params).mean())
        draws.append(shares)
    boot_se = np.std(np.array(draws), axis=0, ddof=1)
    delta_se = np.array([se for _, se in ref])
    assert len(draws) >= 150
    assert np.all(np.abs(boot_se / delta_se - 1) < 0.35), (boot_se, delta_se)


def test_standardised_shares_recover_known_shares_in_a_simulation():
    from analysis.models.quarters import standardised_shares
    rng = np.random.default_rng(7)
    n_la, per = 400, 5
    la = np.repeat(np.arange(n_la), per)
    q = rng.integers(0, 4, len(la))
    z = rng.normal(size=len(la)) + 0.3 * q  # a confounder that rises with the quarter
    beta_q, beta_z = np.array([0.0, -0.3, -0.6, -1.0]), 0.8
    eta = 0.5 + beta_q[q] + beta_z * z
    y = (rng.random(len(la)) < special.expit(eta)).astype(float)
    est = standardised_shares(y, q, z[:, None], la)
    truth = np.array([special.expit(0.5 + beta_q[k] + beta_z * z).mean() for k in range(4)])
    assert np.all(np.abs(est.share - truth) < 3 * est.se), (est.share, truth, est.se)
    raw = np.array([y[q == k].mean() for k in range(4)])
    assert np.abs(raw - truth).max() > np.abs(est.share - truth).max()  # adjustment removes the confounding
