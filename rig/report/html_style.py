"""The report's look, inline: report.html travels as one CI artifact, so it can load nothing from elsewhere."""

from __future__ import annotations

# Outcome colours: a failing cell must stand out on a 200-row matrix at a glance.
OUTCOME_COLOURS = {"pass": "#cdebd1", "fail": "#f6c6c3", "error": "#fbe3a6", "skip": "#e8e8ef"}
OUTCOME_STRONG = {"pass": "#1e7b34", "fail": "#b3261e", "error": "#9a6700", "skip": "#5a5a7a"}
UNKNOWN_COLOUR = "#e4e4e4"

# Timeline picture colours (SVG and its legend share them).
STATE_LINE = "#1f5fbf"
BLOCK_TICK = "#7a7a7a"
CUT_LINE = "#d32f2f"
POWER_ON_LINE = "#2e7d32"
POWER_OFF_FILL = "#eeeeee"
REGISTER_MARK = "#6a1b9a"
RESULT_TEXT = "#444444"

CSS = f"""
body {{ font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 24px; color: #1c1c1c;
       max-width: 1200px; }}
h1 {{ font-size: 22px; margin: 0 0 8px 0; }}
h2 {{ font-size: 18px; margin: 28px 0 8px 0; border-bottom: 1px solid #ccc; padding-bottom: 4px; }}
h3 {{ font-size: 16px; margin: 0 0 6px 0; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #c8c8c8; padding: 3px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
table.params td:first-child {{ font-weight: 600; background: #fafafa; }}
tr.group th {{ background: #dde6f3; font-size: 13px; }}
tr.outcome-pass td {{ background: {OUTCOME_COLOURS['pass']}; }}
tr.outcome-fail td {{ background: {OUTCOME_COLOURS['fail']}; }}
tr.outcome-error td {{ background: {OUTCOME_COLOURS['error']}; }}
tr.outcome-skip td {{ background: {OUTCOME_COLOURS['skip']}; }}
td.outcome, span.outcome {{ font-weight: 700; text-transform: uppercase; }}
.outcome-pass .outcome, span.outcome-pass {{ color: {OUTCOME_STRONG['pass']}; }}
.outcome-fail .outcome, span.outcome-fail {{ color: {OUTCOME_STRONG['fail']}; }}
.outcome-error .outcome, span.outcome-error {{ color: {OUTCOME_STRONG['error']}; }}
.outcome-skip .outcome, span.outcome-skip {{ color: {OUTCOME_STRONG['skip']}; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.counts span {{ margin-right: 16px; font-size: 15px; }}
.stopped {{ background: {OUTCOME_COLOURS['error']}; padding: 6px 10px; border-radius: 4px; display: inline-block; }}
section.case {{ border: 1px solid #d0d0d0; border-left: 6px solid {UNKNOWN_COLOUR}; border-radius: 4px;
                padding: 10px 14px; margin: 16px 0; }}
section.case.outcome-pass {{ border-left-color: {OUTCOME_STRONG['pass']}; }}
section.case.outcome-fail {{ border-left-color: {OUTCOME_STRONG['fail']}; }}
section.case.outcome-error {{ border-left-color: {OUTCOME_STRONG['error']}; }}
section.case.outcome-skip {{ border-left-color: {OUTCOME_STRONG['skip']}; }}
pre.flash {{ background: #f6f6f6; padding: 6px 8px; font-size: 12px; overflow-x: auto; margin: 4px 0; }}
section.case:target {{ box-shadow: 0 0 0 3px #1f5fbf55; }}
.message {{ margin: 4px 0 8px 0; }}
.meta {{ color: #555; font-size: 12px; margin-bottom: 6px; }}
ul.violations {{ margin: 4px 0 8px 0; padding-left: 20px; }}
ul.violations li {{ color: {OUTCOME_STRONG['fail']}; }}
ul.violations code {{ font-weight: 700; }}
pre.console {{ background: #1e1e1e; color: #e6e6e6; padding: 8px; font-size: 12px; overflow-x: auto;
               line-height: 1.35; margin: 4px 0; }}
pre.console .cutline {{ color: #ff8a80; font-weight: 700; }}
pre.console .ts {{ color: #8a8a8a; }}
.missing {{ color: #9a6700; font-style: italic; }}
.legend span {{ margin-right: 14px; font-size: 12px; white-space: nowrap; }}
.legend i {{ display: inline-block; width: 14px; height: 10px; margin-right: 4px; vertical-align: middle; }}
dl.rules {{ display: grid; grid-template-columns: max-content auto; gap: 2px 12px; font-size: 13px; }}
dl.rules dd {{ margin: 0; }}
svg.timeline {{ display: block; margin: 6px 0; background: #fff; max-width: 100%; height: auto; }}
a {{ color: #1f5fbf; }}
.back {{ font-size: 12px; float: right; }}
.history span.past {{ padding: 0 5px; border-radius: 3px; white-space: nowrap; }}
.history span.outcome-pass {{ background: {OUTCOME_COLOURS['pass']}; }}
.history span.outcome-fail {{ background: {OUTCOME_COLOURS['fail']}; }}
.history span.outcome-error {{ background: {OUTCOME_COLOURS['error']}; }}
.history span.outcome-skip {{ background: {OUTCOME_COLOURS['skip']}; }}
"""
