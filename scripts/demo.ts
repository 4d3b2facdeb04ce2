// `npm run demo`: runs the builtin review-change workflow end to end in a fresh temp project, against a
// scripted demo model (no API key, no network), prints live progress, the verdict with its blockers and
// suggestions (the reviewers' structured findings that carried evidence), the stage graph, and where the run's
// report is. Exits non-zero when the run does not complete.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "@mariozechner/pi-coding-agent";
import type { StageResult } from "../extensions/workflows/authoring/types.js";
import { type RunProgressEvent, startWorkflow } from "../extensions/workflows/engine/run.js";
import { renderGraph } from "../extensions/workflows/store/graph-text.js";
import { formatCost, formatDuration, stageGraphNodes } from "../extensions/workflows/store/report-markdown.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import { createScriptedProvider, type ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import type { ReviewedFinding } from "../workflows/lib/review-findings.js";
import reviewChange from "../workflows/review-change.js";

// A throwaway project with one file to review, and an empty agent dir so ~/.pi is never read or written.
const root = mkdtempSync(join(tmpdir(), "pi-workflows-demo-"));
const cwd = join(root, "project");
const agentDir = join(root, "agent");
mkdirSync(join(cwd, "src"), { recursive: true });
mkdirSync(agentDir);
writeFileSync(
	join(cwd, "src", "parser.ts"),
	"export function parseList(text: string): string[] {\n\treturn text.split(',').slice(0, -1);\n}\n",
);

const OFF_BY_ONE = {
	severity: "blocker",
	file: "src/parser.ts",
	line: 2,
	evidence: "`return text.split(',').slice(0, -1);`: parseList('a,b') returns ['a'], the last item is lost",
	suggestion: "Remove the `.slice(0, -1)`",
};
/** A hunch without evidence: the workflow drops it before the synthesis sees it. */
const HUNCH = { severity: "major", file: "src/parser.ts", line: 0, evidence: "", suggestion: "Trim the items?" };
const NO_TEST = {
	severity: "minor",
	file: "src/parser.ts",
	line: 1,
	evidence: "`grep -r parseList` finds no test that calls it",
	suggestion: "Add tests for empty and single-item input",
};

function submit(result: Record<string, unknown>, delayMs: number) {
	return { delayMs, toolCalls: [{ name: "submit_result", arguments: result }] };
}

/** Plausible answers per stage: the scout first reads the file through Pi's real `read` tool; the reviewers submit
 * structured findings; the synthesis reads findings.json (whose path its prompt names) and sorts what it holds. */
function script(request: ScriptedRequest) {
	const delayMs = 150 + Math.floor(Math.random() * 150);
	switch (request.stage) {
		case "scout":
			if (!request.afterToolResult) {
				return { delayMs, toolCalls: [{ name: "read", arguments: { path: "src/parser.ts" } }] };
			}
			return {
				delayMs,
				text: "# Scout map\n\n- src/parser.ts: `parseList` splits a comma-separated list.\n- Risk: `slice(0, -1)` drops the last item.",
			};
		case "correctness":
			if (request.afterToolResult) return { delayMs, text: "Submitted 2 correctness findings." };
			return submit({ findings: [OFF_BY_ONE, HUNCH] }, delayMs);
		case "maintainability":
			if (request.afterToolResult) return { delayMs, text: "Submitted 1 maintainability finding." };
			return submit({ findings: [NO_TEST] }, delayMs);
		case "synthesis": {
			if (request.stageCall === 1) {
				const path = /- (\S+findings\.json)$/m.exec(request.lastMessage)?.[1] ?? "findings.json";
				return { delayMs, toolCalls: [{ name: "read", arguments: { path } }] };
			}
			if (request.stageCall > 2) return { delayMs, text: "Submitted the verdict." };
			const findings = JSON.parse(request.lastMessage) as Array<{ severity: string }>;
			return submit(
				{
					summary: "Request changes: parseList drops the last item; add tests for it.",
					blockers: findings.filter((finding) => finding.severity === "blocker"),
					suggestions: findings.filter((finding) => finding.severity !== "blocker"),
				},
				delayMs,
			);
		}
		default:
			return { delayMs, text: `No script for stage ${request.stage}.` };
	}
}

const provider = createScriptedProvider({ models: ["fast", "smart"], script });
const modelRegistry = await createInMemoryModelRegistry({ demo: provider.config });

const startedAt = Date.now();
const stamp = () => `[${formatDuration(Date.now() - startedAt).padStart(6)}]`;
const models = new Map<string, string>();

function onEvent(progress: RunProgressEvent): void {
	if (progress.type === "activity") {
		const { activity, stageId } = progress;
		if (activity.type === "tool_start") console.log(`${stamp()}   ${stageId}: tool ${activity.tool}`);
		return;
	}
	const event = progress.event;
	switch (event.type) {
		case "run_started":
			console.log(`${stamp()} run ${progress.runId} started: ${JSON.stringify(event.inputs)}`);
			break;
		case "node_started": {
			if (event.kind !== "task") break;
			models.set(event.stageId, event.model);
			const from = event.parents.length > 0 ? ` after ${event.parents.join(", ")}` : "";
			console.log(`${stamp()} > ${event.stageId} started on ${event.model}${from}`);
			break;
		}
		case "node_finished": {
			const model = models.get(event.stageId);
			if (!model) break;
			if (event.status === "completed") {
				// A completed stage's figures are in its result (every model it tried together).
				const result = event.result as StageResult;
				console.log(
					`${stamp()} + ${event.stageId} completed on ${result.model}: ${result.usage.totalTokens} tokens, ` +
						`${formatCost(result.usage.cost)}, ${formatDuration(result.durationMs)}`,
				);
			} else console.log(`${stamp()} x ${event.stageId} ${event.status} on ${model}: ${event.error}`);
			break;
		}
		case "node_attempt":
			console.log(`${stamp()} ~ ${event.stageId} moved on from ${event.model}: ${event.error}`);
			break;
		case "run_finished":
			console.log(`${stamp()} run finished: ${event.status}`);
			break;
	}
}

console.log(`pi-workflows demo on Pi ${VERSION} (Node ${process.versions.node}): review-change in ${cwd}\n`);
const run = startWorkflow(
	reviewChange,
	{ target: "the demo change (src/parser.ts)", reviewerModel: "demo/smart:high" },
	{ cwd, agentDir, modelRegistry, defaultModel: "demo/fast", onEvent },
);
const report = await run.done;

console.log(`\nStatus: ${report.status}${report.reason ? ` (${report.reason})` : ""}`);
console.log(
	`Usage: ${report.usage.totalTokens} tokens, ${report.usage.turns} turns, ${report.usage.toolCalls} tool calls, ` +
		`${formatCost(report.usage.cost)}`,
);
for (const error of report.errors) console.log(`Error: ${error}`);
const outputs = (report.outputs ?? {}) as Partial<{
	result: string;
	blockers: ReviewedFinding[];
	suggestions: ReviewedFinding[];
	dropped: number;
}>;
const findingLine = (finding: ReviewedFinding) =>
	`  - [${finding.severity}, ${finding.reviewer}] ${finding.file}:${finding.line}: ${finding.suggestion}\n` +
	`      evidence: ${finding.evidence}`;
console.log(`\nVerdict: ${outputs.result ?? "(none)"}`);
console.log(`Blockers (${outputs.blockers?.length ?? 0}):\n${(outputs.blockers ?? []).map(findingLine).join("\n")}`);
console.log(
	`Suggestions (${outputs.suggestions?.length ?? 0}):\n${(outputs.suggestions ?? []).map(findingLine).join("\n")}`,
);
console.log(`Dropped for lacking evidence: ${outputs.dropped ?? 0}`);
// The demo also names the model that answered each stage.
const nodes = stageGraphNodes(report.stages).map((node, index) => {
	const label = [node.label, report.stages[index]?.model].filter((part) => part).join(", ");
	return label ? { ...node, label } : node;
});
console.log(`\nGraph:\n${renderGraph(nodes).join("\n")}`);
console.log(`\nReport:\n  ${run.paths.reportJson}\n  ${run.paths.reportMd}`);
process.exitCode = report.status === "completed" ? 0 : 1;
