// `npm run demo`: the builtin `task` loop end to end on a tiny generated git repository whose test fails, in real
// Pi sessions answered by a scripted demo model (no API key, no network). DISCOVER reads the code, PLAN plans, ACT
// edits in the run's worktree; the first fix is wrong, so VERIFY fails and the loop plans again with the failure;
// the second fix passes, the bugfix is proven (its test fails without the fix), the apply gate is answered yes,
// and the fix lands in the repository. Prints the progress, a short summary and where the report is; exits
// non-zero when the run does not complete.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "@mariozechner/pi-coding-agent";
import type { StageResult } from "../extensions/workflows/authoring/types.js";
import { type RunProgressEvent, startWorkflow, type WorkflowRun } from "../extensions/workflows/engine/run.js";
import { renderGraph } from "../extensions/workflows/store/graph-text.js";
import { formatCost, formatDuration, stageGraphNodes } from "../extensions/workflows/store/report-markdown.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import {
	createScriptedProvider,
	type ScriptedReply,
	type ScriptedRequest,
} from "../extensions/workflows/testing/scripted-provider.js";
import task from "../workflows/task.js";

const BUGGY = "module.exports = (a, b) => a - b;\n";
const WRONG = "module.exports = (a, b) => a * b;\n";
const FIXED = "module.exports = (a, b) => a + b;\n";
const TEST = `const sum = require("../sum.js");
if (sum(2, 3) !== 5) { console.error("FAIL sum(2, 3) expected 5, got " + sum(2, 3)); process.exit(1); }
console.log("ok");
`;
const MORE_TESTS = `${TEST}if (sum(1, 1) !== 2) { console.error("FAIL sum(1, 1) expected 2, got " + sum(1, 1)); process.exit(1); }\n`;
const VERIFY = "node tests/sum.test.js";

function git(cwd: string, ...args: string[]): string {
	try {
		return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
	} catch (error) {
		const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "git is not installed" : String(error);
		console.error(`The demo needs git (the task loop works in a git worktree): ${reason}`);
		process.exit(1);
	}
}

// A throwaway repository with a bug its test catches, and an empty agent dir so ~/.pi is never read or written.
const root = mkdtempSync(join(tmpdir(), "pi-workflows-demo-"));
const cwd = join(root, "project");
const agentDir = join(root, "agent");
mkdirSync(join(cwd, "tests"), { recursive: true });
mkdirSync(agentDir);
writeFileSync(join(cwd, "sum.js"), BUGGY);
writeFileSync(join(cwd, "tests", "sum.test.js"), TEST);
writeFileSync(join(cwd, "package.json"), `${JSON.stringify({ name: "demo", scripts: { test: VERIFY } }, null, 2)}\n`);
git(cwd, "init", "-q", "-b", "main");
git(cwd, "config", "user.name", "Demo");
git(cwd, "config", "user.email", "demo@example.com");
git(cwd, "add", "-A");
git(cwd, "commit", "-q", "-m", "sum, with a bug its test catches");

const delay = () => 100 + Math.floor(Math.random() * 150);

/** A stage writes these files with Pi's real `write` tool, then says what it did. */
function writes(files: Record<string, string>, done: string) {
	return (request: ScriptedRequest): ScriptedReply =>
		request.afterToolResult
			? { delayMs: delay(), text: done }
			: {
					delayMs: delay(),
					toolCalls: Object.entries(files).map(([path, content]) => ({
						name: "write",
						arguments: { path, content },
					})),
				};
}

/** Plausible answers per stage: DISCOVER reads the files; the first ACT multiplies (wrong), the second adds. */
function script(request: ScriptedRequest): ScriptedReply {
	const stage = request.stage ?? "";
	if (stage === "discover") {
		if (!request.afterToolResult) {
			return {
				delayMs: delay(),
				toolCalls: [
					{ name: "read", arguments: { path: "sum.js" } },
					{ name: "read", arguments: { path: "tests/sum.test.js" } },
				],
			};
		}
		return {
			delayMs: delay(),
			text: "- sum.js: `sum(a, b)` returns `a - b`.\n- tests/sum.test.js: expects sum(2, 3) === 5.",
		};
	}
	if (stage === "plan")
		return {
			delayMs: delay(),
			text: "Files: sum.js, tests/sum.test.js. Make sum combine its arguments; add a case for 1 + 1.",
		};
	if (stage === "plan-2") {
		return {
			delayMs: delay(),
			text: "The last verify says sum(2, 3) gave 6: it multiplies. Files: sum.js. Make it add.",
		};
	}
	if (stage === "act")
		return writes(
			{ "sum.js": WRONG, "tests/sum.test.js": MORE_TESTS },
			"sum combines its arguments; a test for 1 + 1 added.",
		)(request);
	if (stage === "act-2") return writes({ "sum.js": FIXED }, "sum adds its arguments.")(request);
	return { delayMs: delay(), text: `No script for stage ${stage}.` };
}

const provider = createScriptedProvider({ models: ["fast"], script });
const modelRegistry = await createInMemoryModelRegistry({ demo: provider.config });

const startedAt = Date.now();
const stamp = () => `[${formatDuration(Date.now() - startedAt).padStart(6)}]`;
const kinds = new Map<string, string>();

function onEvent(progress: RunProgressEvent): void {
	if (progress.type === "activity") {
		const { activity, stageId } = progress;
		if (activity.type === "tool_start") console.log(`${stamp()}   ${stageId}: ${activity.tool}`);
		return;
	}
	const event = progress.event;
	if (event.type === "node_started" && (event.kind === "task" || event.kind === "tool")) {
		kinds.set(event.stageId, event.kind);
		console.log(`${stamp()} > ${event.stageId}${event.kind === "task" ? ` on ${event.model}` : ""}`);
	} else if (event.type === "node_finished" && kinds.has(event.stageId)) {
		if (event.status !== "completed") console.log(`${stamp()} x ${event.stageId} ${event.status}: ${event.error}`);
		else if (kinds.get(event.stageId) === "task") {
			const result = event.result as StageResult;
			console.log(
				`${stamp()} + ${event.stageId}: ${result.usage.totalTokens} tokens, ${formatCost(result.usage.cost)}`,
			);
		} else {
			// A verify run: pass or fail by its exit code.
			const value = (event.result as { value?: { passed?: boolean; exitCode?: number } } | undefined)?.value;
			if (value && typeof value.passed === "boolean")
				console.log(
					`${stamp()} + ${event.stageId}: ${value.passed ? "passed" : `failed (exit ${value.exitCode})`}`,
				);
		}
	}
}

console.log(`pi-workflows demo on Pi ${VERSION} (Node ${process.versions.node}): the task loop in ${cwd}\n`);
let run: WorkflowRun | undefined;
run = startWorkflow(
	task,
	{ goal: "sum adds its arguments", type: "bugfix", verify: VERIFY },
	{
		cwd,
		agentDir,
		modelRegistry,
		defaultModel: "demo/fast",
		onEvent,
		// The apply gate: a person would read the change and say yes or no; the demo says yes.
		onPrompt: (prompt) => {
			console.log(`${stamp()} ? ${prompt.message.split("\n")[0]} -> yes (the demo answers)`);
			queueMicrotask(() => run?.answer(prompt.id, true));
		},
	},
);
const report = await run.done;
const outputs = (report.outputs ?? {}) as Partial<{
	verified: boolean;
	applied: boolean;
	iterations: number;
	memory: string;
}>;

console.log(`\nStatus: ${report.status}${report.reason ? ` (${report.reason})` : ""}`);
console.log(
	`Iterations: ${outputs.iterations ?? "?"}, verified: ${outputs.verified ?? false}, applied: ${outputs.applied ?? false}`,
);
console.log(`sum.js in the repository now: ${readFileSync(join(cwd, "sum.js"), "utf8").trim()}`);
console.log(`Working tree: ${git(cwd, "status", "--short").replace(/\n/g, ", ") || "clean"}`);
console.log(
	`Usage: ${report.usage.totalTokens} tokens, ${report.usage.turns} turns, ${report.usage.toolCalls} tool calls, ` +
		`${formatCost(report.usage.cost)}, ${formatDuration(report.durationMs ?? 0)}`,
);
console.log(`Memory the loop kept (${outputs.memory?.length ?? 0} characters):\n${outputs.memory ?? ""}`);
for (const error of report.errors) console.log(`Error: ${error}`);
console.log(`\nGraph:\n${renderGraph(stageGraphNodes(report.stages)).join("\n")}`);
console.log(`\nReport:\n  ${run.paths.reportMd}\n  ${run.paths.reportJson}`);
process.exitCode = report.status === "completed" && outputs.applied ? 0 : 1;
