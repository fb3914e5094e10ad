"""Nothing a pull request's config controls can take over CI output (issue 16, item 1).

A corpus of hostile strings goes into every string fact of a report (model name, targets,
modules_to_save, the quantizer's skip list, the config file's path, finding subjects and messages),
and every format must keep its promise (render/escape.py):

- github: every line is one of ours (an annotation, or the summary line); properties parse as the
  runner parses them, with only our keys; no ``##[`` anywhere.
- terminal and CI log: no control, bidi or zero-width character; no line starts a workflow command;
  rich markup in data is text.
- markdown: outside code spans, no raw HTML, link, autolink or @mention.
- SARIF: artifact URIs relative and percent-encoded.
- JSON: the exact strings, recoverable.
- stderr: one line, shown, never obeyed.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import unicodedata

import pytest

from lora_audit.render import RenderOptions, TerminalSpec, render
from lora_audit.render.escape import sarif_uri, visible
from lora_audit.report import Location
from lora_audit.rules.engine import run_rules
from tests.factory import decoder, layer_names, model, quantization, report, saved, target

HOSTILE = [
    "evil\nname",
    "line\r\n::warning title=pwned::owned",
    "::error file=x,line=1::forged",
    "  ::add-mask::secret",
    "##[add-mask]secret",
    "x%0A::warning::smuggled",
    "a%2Ctitle=forged",
    "comma,colon:name",
    "\x1b[31mred\x1b[0m\x1b]0;title\x07",
    "c1\x9b31mcsi",
    "bidi\u202egnp.exe",
    "zero\u200bwidth\u2060joiner\ufeff",
    "sep\u2028line\u2029para",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click me](https://evil.example/x)",
    "![img](https://evil.example/i.png)",
    "https://evil.example/auto",
    "@maintainer",
    "[/x] [bold]markup[/bold]",
    "`tick` ``two``",
    "pipe | cell",
    "javascript:alert(1).json",
]
#: What a terminal or log would obey or hide (render/escape.py's list).
INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def hostile_report(text: str, index: int = 0):
    tree = decoder()
    r = report(
        modules=tree,
        model=model(name=f"org/{text}", source=f"bundled catalogue: {text}"),
        targets=[target("q_proj", layer_names("self_attn.q_proj")), target(text), target(f"x.{text}")],
        modules_to_save=[saved(text)],
        quantization=quantization(skip_modules=[text], skip_field="llm_int8_skip_modules"),
        notes=[f"note about {text}"],
    )
    findings = run_rules(r)
    assert findings, "the unmatched hostile targets must give findings that quote them"
    located = [dataclasses.replace(f, location=Location(file=f"cfg/{text}.yaml", line=3)) for f in findings]
    r.findings = located
    return r


def strip_code_spans(markdown: str) -> str:
    """The markdown with every inline code span removed (CommonMark: a run of n backticks to the next run of n)."""
    out, i = [], 0
    while i < len(markdown):
        m = re.match(r"`+", markdown[i:])
        if m:
            fence = m.group()
            end = re.compile(rf"(?<!`){fence}(?!`)").search(markdown, i + len(fence))
            if end:
                i = end.end()
                continue
        out.append(markdown[i])
        i += 1
    return "".join(out)


@pytest.fixture(scope="module", params=range(len(HOSTILE)), ids=lambda i: repr(HOSTILE[i])[:40])
def hostile(request):
    text = HOSTILE[request.param]
    return text, hostile_report(text)


def test_github_lines_are_all_ours_and_parse_as_the_runner_parses_them(hostile):
    text, r = hostile
    out = render("github", r, RenderOptions(root="/nowhere"))
    assert "##[" not in out
    for line in out.splitlines():
        if line.startswith("lora-audit: "):
            continue
        m = re.fullmatch(r"::(error|warning|notice) ([^:]*)::(.*)", line)
        assert m, line
        props = dict(p.split("=", 1) for p in m.group(2).split(","))
        assert set(props) <= {"file", "line", "title"}, props
        for value in props.values():
            assert "," not in value and ":" not in value and "\n" not in value
        assert "::" not in m.group(3).replace("%3A", "")  # the message cannot close or open a command


@pytest.mark.parametrize("plain", [True, False], ids=["ci-log", "terminal"])
def test_terminal_shows_every_character_and_obeys_none(hostile, plain):
    text, r = hostile
    spec = TerminalSpec(width=80, is_terminal=not plain)
    out = render("terminal", r, RenderOptions(terminal=spec))
    assert not INVISIBLE.search(out), repr(INVISIBLE.search(out).group())
    for line in out.splitlines():
        assert not line.lstrip().startswith("::") and "##[" not in line, line
    if "[/x]" in text:
        assert "[/x] [bold]markup[/bold]" in out  # markup is text, shown as written


def test_markdown_has_no_raw_html_link_or_mention_outside_code_spans(hostile):
    text, r = hostile
    out = render("markdown", r, RenderOptions())
    prose = strip_code_spans(out)
    assert not re.search(r"(?<!\\)<[a-zA-Z/!]", prose), prose
    assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", prose)
    assert not re.search(r"@[A-Za-z0-9]", prose)
    assert not re.search(r"https?://", prose)
    # The one invisible character allowed is markdown's own word joiner, which breaks @mentions and autolinks;
    # an input's own joiner is shown as text.
    assert not INVISIBLE.search(out.replace("\u2060", ""))
    if "\u2060" in text:
        assert "\\u2060" in out


def test_sarif_uris_are_relative_and_percent_encoded(hostile):
    text, r = hostile
    document = json.loads(render("sarif", r, RenderOptions(root="/nowhere")))
    for run in document["runs"]:
        for result in run["results"]:
            for location in result["locations"]:
                uri = location["physicalLocation"]["artifactLocation"]["uri"]
                assert not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", uri), uri  # no scheme: relative
                assert all(ch.isascii() and ch.isprintable() and ch not in " <>\"{}|\\^`" for ch in uri), uri


def test_json_keeps_the_exact_strings(hostile):
    text, r = hostile
    document = json.loads(render("json", r, RenderOptions()))
    assert document["model"]["name"] == f"org/{text}"
    assert text in [t["pattern"] for t in document["targets"]]
    gitlab = json.loads(render("gitlab", r, RenderOptions(root="/nowhere")))
    assert all(isinstance(issue["description"], str) for issue in gitlab)


def test_the_report_is_not_changed_by_rendering():
    r = hostile_report("evil\x1b[31m")
    before = json.loads(render("json", r, RenderOptions()))
    for fmt in ("terminal", "markdown", "github", "sarif", "gitlab"):
        render(fmt, r, RenderOptions())
    assert json.loads(render("json", r, RenderOptions())) == before


@pytest.mark.parametrize("text", HOSTILE)
def test_visible_leaves_no_control_and_no_command(text):
    shown = visible(text)
    assert not INVISIBLE.search(shown) and "\n" not in shown and "\t" not in shown
    assert "::" not in shown and "##[" not in shown
    assert all(unicodedata.category(ch) != "Cc" for ch in shown)


def test_visible_leaves_ordinary_names_alone():
    for name in ("model.layers.0.self_attn.q_proj", "Qwen/Qwen2.5-0.5B", "to_out.0", "ff.net.0.proj", "ÄÖ 日本"):
        assert visible(name) == name


def test_sarif_uri():
    assert sarif_uri("javascript:alert(1).json") == "javascript%3Aalert%281%29.json"
    assert sarif_uri("train/lora.yaml") == "train/lora.yaml"
    assert sarif_uri("dir with space/a#b?.yml") == "dir%20with%20space/a%23b%3F.yml"


# --------------------------------------------------------------------------- end to end, through the CLI
def test_a_hostile_config_cannot_forge_a_workflow_command(cli, tmp_path, monkeypatch):
    config = tmp_path / "lora.json"
    config.write_text(json.dumps({"r": 8, "target_modules": ["q_proj", "x\n::error title=pwned::owned",
                                                            "##[add-mask]y", "\x1b[2J"]}))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for fmt in (["--format", "github"], ["--format", "terminal"], []):
        result = cli("Qwen/Qwen2.5-0.5B", "--config", config, *fmt)
        assert result.code == 1, result.err
        for line in (result.out + result.err).splitlines():
            assert not line.lstrip().startswith("::") or re.match(r"::(error|warning|notice) ", line), line
            assert "##[" not in line and "\x1b" not in line, line


def test_an_error_line_quoting_an_input_is_one_visible_line(cli, tmp_path):
    model = tmp_path / "m\x1b[31m\n##[add-mask]x"
    result = cli(model, "--targets", "q_proj")
    assert result.code == 2
    assert len(result.err.splitlines()) == 1 and "\x1b" not in result.err and "##[" not in result.err


def test_rich_markup_in_a_target_name_is_not_an_internal_error(cli, tmp_path):
    result = cli("Qwen/Qwen2.5-0.5B", "--targets", "q_proj,[/x]", "--format", "terminal")
    assert result.code == 1 and "internal" not in result.err, result.err
    assert "[/x]" in result.out


def test_the_check_summary_escapes_pair_labels(tmp_path):
    from lora_audit.cli.batch import CheckReport, Pair, PairResult
    from lora_audit.errors import AuditError

    pair = Pair(model="<img src=x>", config="@owner/x\n::error::y.json")
    error = AuditError("model-missing", "no model <b>x</b>\x1b[31m", "pass MODEL")
    check = CheckReport([PairResult(pair, error=error)], None, [])
    out = render("markdown", check, RenderOptions())
    prose = strip_code_spans(out)
    assert not re.search(r"(?<!\\)<[a-zA-Z/]", prose) and "\x1b" not in out
    text = render("terminal", check, RenderOptions(terminal=TerminalSpec(width=80)))
    assert "\x1b" not in text and not any(line.lstrip().startswith("::") for line in text.splitlines())
    assert io.StringIO(render("github", check, RenderOptions())).read().count("\n") == 1
