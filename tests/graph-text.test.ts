// The stage graph on screen: the text drawing (chains, parallel branches, fan-in, nesting, kinds, models tried,
// replays, collapsing a large graph) and the mermaid flowchart of report.md (valid whatever the ids hold).

import { describe, expect, it } from "vitest";
import { zeroUsage } from "../extensions/workflows/authoring/usage.js";
import { renderMermaid } from "../extensions/workflows/store/graph-mermaid.js";
import { type GraphNode, renderGraph } from "../extensions/workflows/store/graph-text.js";
import type { RunReport, StageReport } from "../extensions/workflows/store/report.js";
import { renderReportMarkdown, stageGraphNodes } from "../extensions/workflows/store/report-markdown.js";

const node = (id: string, parents: string[] = [], extra: Partial<GraphNode> = {}): GraphNode => ({
	id,
	kind: "task",
	status: "completed",
	parents,
	...extra,
});

const fanOut = [
	node("scout", [], { label: "2.1s" }),
	node("correctness", ["scout"], { label: "1.0s" }),
	node("maintainability", ["scout"], { label: "1.2s" }),
	node("synthesis", ["correctness", "maintainability"], { label: "0.8s" }),
];

const childWorkflow = [
	node("prepare"),
	node("review", ["prepare"], { kind: "workflow", status: "running" }),
	node("review/scout", ["prepare"], { within: "review" }),
	node("review/lint", ["review/scout"], { within: "review", kind: "tool" }),
	node("review/types", ["review/scout"], { within: "review", status: "failed" }),
	node("review/verdict", ["review/lint", "review/types"], { within: "review", status: "running" }),
];

/** 200 reviews fanned out from a scout, one failed, one still running, joined by a synthesis. */
function manyReviews(): GraphNode[] {
	const reviews = Array.from({ length: 200 }, (_, index) =>
		node(`review-${index + 1}`, ["scout"], {
			status: index === 99 ? "failed" : index === 150 ? "running" : "completed",
			replayed: index < 10,
		}),
	);
	return [
		node("scout"),
		...reviews,
		node(
			"synthesis",
			reviews.map((review) => review.id),
			{ status: "waiting" },
		),
	];
}

describe("renderGraph", () => {
	it("draws a chain one stage under the other, without naming the parent just above", () => {
		expect(
			renderGraph([node("plan", [], { label: "1.0s" }), node("build", ["plan"]), node("check", ["build"])]),
		).toEqual(["✓ plan  1.0s", "✓ build", "✓ check"]);
	});

	it("draws a fan-out as branches under one line and names the parents of the fan-in", () => {
		expect(renderGraph(fanOut)).toEqual([
			"✓ scout  2.1s",
			"┬ 2 in parallel",
			"├ ✓ correctness  1.0s",
			"└ ✓ maintainability  1.2s",
			"✓ synthesis  0.8s  <- correctness, maintainability",
		]);
	});

	it("keeps each branch's own stages in its branch, in whatever order they started", () => {
		const nodes = [
			node("plan"),
			node("a", ["plan"]),
			node("c", ["plan"]),
			node("b", ["a"]),
			node("d", ["c"]),
			node("e", ["plan"]),
			node("join", ["b", "d", "e"]),
		];
		expect(renderGraph(nodes)).toEqual([
			"✓ plan",
			"┬ 3 in parallel",
			"├ ✓ a",
			"│ ✓ b",
			"├ ✓ c",
			"│ ✓ d",
			"└ ✓ e",
			"✓ join  <- b, d, e",
		]);
	});

	it("indents a child workflow's stages under its node, their graph drawn the same way", () => {
		expect(renderGraph([...childWorkflow, node("publish", ["review"], { status: "cancelled" })])).toEqual([
			"✓ prepare",
			"● [workflow] review",
			"  ✓ review/scout",
			"  ┬ 2 in parallel",
			"  ├ ✓ [tool] review/lint",
			"  └ ✗ review/types",
			"  ● review/verdict  <- review/lint, review/types",
			"– publish",
		]);
	});

	it("lists a multi-turn stage's prompts in turn under it, whatever parents they name", () => {
		const nodes = [
			node("scout"),
			node("design", ["scout"], { kind: "stage", status: "waiting", label: "30.1s" }),
			node("design-1", ["scout"], { within: "design", label: "8.0s" }),
			node("design-2", ["scout"], { within: "design", label: "9.5s" }),
			node("design-3", ["scout"], { within: "design", status: "waiting" }),
		];
		expect(renderGraph(nodes)).toEqual([
			"✓ scout",
			"? [stage] design  30.1s",
			"  ✓ design-1  8.0s",
			"  ✓ design-2  9.5s",
			"  ? design-3",
		]);
	});

	it("shows each status by its glyph and every kind but task by name", () => {
		const nodes = [
			node("lint", [], { kind: "tool", label: "0.3s" }),
			node("confirm", ["lint"], { kind: "prompt", status: "waiting" }),
			node("tree", ["confirm"], { kind: "worktree", status: "interrupted" }),
			node("patch", ["tree"], { kind: "apply", status: "failed" }),
			node("notify", ["patch"], { status: "cancelled" }),
			node("watch", ["notify"], { status: "running" }),
		];
		expect(renderGraph(nodes)).toEqual([
			"✓ [tool] lint  0.3s",
			"? [prompt] confirm",
			"◌ [worktree] tree",
			"✗ [apply] patch",
			"– notify",
			"● watch",
		]);
	});

	it("marks a replayed node and says how many models a stage tried", () => {
		const nodes = [
			node("scout", [], { replayed: true, label: "2.1s" }),
			node("review", ["scout"], { attempts: 2, label: "4.0s" }),
			node("verdict", ["review"], { attempts: 1 }),
		];
		expect(renderGraph(nodes)).toEqual(["✓ scout ↺  2.1s", "✓ review  4.0s  (2 models)", "✓ verdict"]);
	});

	it("counts parents missing from the list as none, and names a parent that is not just above", () => {
		const nodes = [node("resumed", ["gone"]), node("other", ["resumed"]), node("late", ["resumed"])];
		expect(renderGraph(nodes)).toEqual(["✓ resumed", "┬ 2 in parallel", "├ ✓ other", "└ ✓ late"]);
		expect(renderGraph([node("a"), node("b", ["a"]), node("c", ["a", "b"]), node("d", ["b"])])).toEqual([
			"✓ a",
			"✓ b",
			"✓ c  <- a, b",
			"✓ d  <- b",
		]);
	});

	it("collapses a 200-stage graph to a few lines, every stage not completed still listed", () => {
		const lines = renderGraph(manyReviews());
		expect(lines).toEqual([
			"✓ scout",
			"┬ 200 in parallel",
			"├ ✓ review-1 ↺",
			"├ ✓ review-2 ↺",
			"├ ✓ 97 more completed, 8 replayed (review-3 … review-99)",
			"├ ✗ review-100",
			"├ ✓ 50 more completed (review-101 … review-150)",
			"├ ● review-151",
			"└ ✓ 49 more completed (review-152 … review-200)",
			"? synthesis  <- review-1, review-2, review-3, review-4 and 196 more",
		]);
	});

	it("collapses only above collapseAbove, and a long chain the same way", () => {
		const chain = Array.from({ length: 30 }, (_, index) =>
			node(`step-${index + 1}`, index === 0 ? [] : [`step-${index}`], {
				status: index === 29 ? "running" : "completed",
			}),
		);
		expect(renderGraph(chain)).toHaveLength(30);
		expect(renderGraph(chain, { collapseAbove: 10 })).toEqual([
			"✓ step-1",
			"✓ step-2",
			"✓ 27 more completed (step-3 … step-29)",
			"● step-30",
		]);
	});
});

/** Every line of a chart as renderMermaid writes it; a line of any other shape fails the test. */
const MERMAID_LINE = [
	/^flowchart TD$/,
	/^\t+[nc]_\w+\["[^"[\]<>{}()|`]*"\]$/,
	/^\t+subgraph n_\w+ \["[^"[\]<>{}()|`]*"\]$/,
	/^\t+end$/,
	/^\t[nc]_\w+ --> [nc]_\w+$/,
	/^\tclassDef (completed|failed|running|waiting|interrupted|cancelled) [\w#:,.\- ]+$/,
	/^\tclass [nc]_\w+(,[nc]_\w+)* \w+$/,
];

function expectValidMermaid(lines: readonly string[]): void {
	for (const line of lines)
		expect(
			MERMAID_LINE.some((shape) => shape.test(line)),
			line,
		).toBe(true);
	const opened = lines.filter((line) => line.trim().startsWith("subgraph ")).length;
	expect(lines.filter((line) => line.trim() === "end")).toHaveLength(opened);
}

describe("renderMermaid", () => {
	it("draws a fan-out and fan-in as boxes, an edge from each parent and a class per status", () => {
		const lines = renderMermaid(fanOut.map((entry, index) => (index === 2 ? { ...entry, status: "failed" } : entry)));
		expect(lines).toEqual([
			"flowchart TD",
			'\tn_scout["✓ scout · 2.1s"]',
			'\tn_correctness["✓ correctness · 1.0s"]',
			'\tn_maintainability["✗ maintainability · 1.2s"]',
			'\tn_synthesis["✓ synthesis · 0.8s"]',
			"\tn_scout --> n_correctness",
			"\tn_scout --> n_maintainability",
			"\tn_correctness --> n_synthesis",
			"\tn_maintainability --> n_synthesis",
			"\tclassDef completed fill:#e6f4ea,stroke:#2e7d32,color:#1b1b1b",
			"\tclass n_scout,n_correctness,n_synthesis completed",
			"\tclassDef failed fill:#fdecea,stroke:#c62828,color:#1b1b1b",
			"\tclass n_maintainability failed",
		]);
		expectValidMermaid(lines);
	});

	it("puts a child workflow's stages in a subgraph that stands for its node, ids sanitized", () => {
		const lines = renderMermaid([...childWorkflow, node("publish", ["review"])]);
		expect(lines.slice(0, 10)).toEqual([
			"flowchart TD",
			'\tn_prepare["✓ prepare"]',
			'\tsubgraph n_review ["● review · workflow"]',
			'\t\tn_review_scout["✓ review/scout"]',
			'\t\tn_review_lint["✓ review/lint · tool"]',
			'\t\tn_review_types["✗ review/types"]',
			'\t\tn_review_verdict["● review/verdict"]',
			"\tend",
			'\tn_publish["✓ publish"]',
			"\tn_prepare --> n_review",
		]);
		expect(lines).toContain("\tn_prepare --> n_review_scout");
		expect(lines).toContain("\tn_review_types --> n_review_verdict");
		expect(lines).toContain("\tn_review --> n_publish");
		expect(lines).toContain("\tclass n_review_verdict,n_review running");
		expectValidMermaid(lines);
	});

	it("stays valid with ids holding quotes, brackets, spaces and mermaid words", () => {
		const nodes = [
			node('a"b]c'),
			node("a-b-c", ['a"b]c']),
			node("end", ["a-b-c"], { label: '<b>#1 `x` {y} (z) |w| 50% "q"' }),
			node("x y.z", ["end"], { kind: "workflow", status: "waiting" }),
			node("[inner]", [], { within: "x y.z", kind: 'k"[' }),
		];
		const lines = renderMermaid(nodes);
		expect(lines).toContain('\tn_a_b_c["✓ a#34;b#93;c"]');
		expect(lines).toContain('\tn_a_b_c_2["✓ a-b-c"]');
		expect(lines).toContain("\tn_a_b_c --> n_a_b_c_2");
		expect(lines).toContain('\t\tn__inner_["✓ #91;inner#93; · k#34;#91;"]');
		expectValidMermaid(lines);
	});

	it("draws a collapsed run as one box, its edges merged", () => {
		const lines = renderMermaid(manyReviews());
		expect(lines).toContain('\tc_1["✓ 97 more completed, 8 replayed · review-3 … review-99"]');
		expect(lines).toContain("\tn_scout --> c_1");
		expect(lines).toContain("\tc_1 --> n_synthesis");
		expect(lines).toContain('\tn_review_100["✗ review-100"]');
		expect(lines.length).toBeLessThan(40);
		expectValidMermaid(lines);
	});
});

describe("a report's graph", () => {
	const stage = (id: string, parents: string[], extra: Partial<StageReport> = {}): StageReport => ({
		id,
		kind: "task",
		name: id,
		status: "completed",
		parents,
		attempts: [],
		usage: zeroUsage(),
		replayed: false,
		...extra,
	});
	const attempt = (model: string, ok: boolean) => ({ model, ok });
	const stages = [
		stage("scout", [], { durationMs: 2_100, replayed: true }),
		stage("review", ["scout"], { attempts: [attempt("a/one", false), attempt("b/two", true)] }),
	];

	it("takes duration, models tried and replays from the stages", () => {
		expect(renderGraph(stageGraphNodes(stages))).toEqual(["✓ scout ↺  2.1s", "✓ review  (2 models)"]);
	});

	it("is a mermaid block in report.md, the last thing of its section", () => {
		const report: RunReport = {
			version: 1,
			runId: "graph001",
			workflow: "review",
			status: "completed",
			inputs: {},
			startedAt: "2026-12-01T00:00:00.000Z",
			usage: zeroUsage(),
			stages,
			prompts: [],
			artifacts: [],
			errors: [],
			warnings: [],
		};
		const markdown = renderReportMarkdown(report);
		const section = markdown.slice(markdown.indexOf("## Graph"));
		expect(section).toBe(
			["## Graph", "", "```mermaid", ...renderMermaid(stageGraphNodes(stages)), "```", ""].join("\n"),
		);
		expect(section).toContain("n_scout --> n_review");
	});
});
