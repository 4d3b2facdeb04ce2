// `npm run bench` (with the others): the `task` builtin on a tiny repository with a failing test, against the
// scripted model. ACT gets it wrong seven times (a different wrong attempt each time) and right the eighth, so
// the loop runs its 8 iterations. Reports per iteration: model calls, tokens, wall time of PLAN + ACT + VERIFY,
// and the size of the memory the iteration's PLAN was given, which must stay bounded. Exits non-zero when the
// run does not end verified after 8 iterations or the memory passes its bound.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "@mariozechner/pi-coding-agent";
import { startWorkflow, type WorkflowRun } from "../extensions/workflows/engine/run.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import { createScriptedProvider, type ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import task from "../workflows/task.js";
import { printTable, writeResults } from "./report.js";

const ITERATIONS = 8;
const MEMORY_BOUND = 4_000;

const root = mkdtempSync(join(tmpdir(), "pi-workflows-bench-task-"));
const cwd = join(root, "project");
mkdirSync(join(cwd, "tests"), { recursive: true });
const git = (...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" });
git("init", "-q", "-b", "main");
git("config", "user.name", "Bench");
git("config", "user.email", "bench@example.com");
writeFileSync(join(cwd, "sum.js"), "module.exports = (a, b) => a - b;\n");
const test = `const sum = require("../sum.js");
if (sum(2, 3) !== 5) { console.error("FAIL sum(2, 3) expected 5, got " + sum(2, 3)); process.exit(1); }
console.log("ok");
`;
writeFileSync(join(cwd, "tests", "sum.test.js"), test);
git("add", "-A");
git("commit", "-q", "-m", "init");

/** ACT k writes a wrong sum (a different one each time) and one more test line; the 8th writes the right sum. */
function act(request: ScriptedRequest) {
	if (request.afterToolResult) return "done";
	const k = Number(/^act(?:-(\d+))?$/.exec(request.stage ?? "")?.[1] ?? 1);
	const body = k === ITERATIONS ? "a + b" : `a * b + ${k}`;
	const tests = `${test}${Array.from({ length: k }, (_, i) => `// case ${i + 1}: sum(${i}, 1) === ${i + 1}\n`).join("")}`;
	return {
		toolCalls: [
			{ name: "write", arguments: { path: "sum.js", content: `module.exports = (a, b) => ${body};\n` } },
			{ name: "write", arguments: { path: "tests/sum.test.js", content: tests } },
		],
	};
}

const provider = createScriptedProvider({
	models: ["instant"],
	script: (request) => {
		const stage = request.stage ?? "";
		if (stage.startsWith("act")) return act(request);
		if (stage.startsWith("plan")) return `Approach for ${stage}: try another formula in sum.js\nFiles: sum.js`;
		return "sum.js holds sum; tests/sum.test.js checks sum(2, 3).";
	},
});
const modelRegistry = await createInMemoryModelRegistry({ scripted: provider.config });
const startedAt = Date.now();
let run: WorkflowRun | undefined;
run = startWorkflow(
	task,
	{ goal: "sum adds its arguments", type: "bugfix", verify: "node tests/sum.test.js" },
	{
		cwd,
		agentDir: join(root, "agent"),
		modelRegistry,
		defaultModel: "scripted/instant",
		// Nobody at the gate in a bench: the change is declined, so the checkout stays as it is.
		onPrompt: (prompt) => queueMicrotask(() => run?.answer(prompt.id, false)),
	},
);
const report = await run.done;
const wallMs = Date.now() - startedAt;

const stage = (id: string) => report.stages.find((entry) => entry.id === id);
const rows: string[][] = [];
const figures: Array<{ iteration: number; modelCalls: number; tokens: number; wallMs: number; memoryChars: number }> =
	[];
for (let k = 1; k <= ITERATIONS; k++) {
	const suffix = k === 1 ? "" : `-${k}`;
	const plan = stage(`plan${suffix}`);
	const actStage = stage(`act${suffix}`);
	const verify = stage(`verify${suffix}`);
	const calls = provider.calls.filter((call) => call.stage === `plan${suffix}` || call.stage === `act${suffix}`);
	const prompt = provider.calls.find((call) => call.stage === `plan${suffix}`)?.transcript[0] ?? "";
	const memory =
		/What earlier iterations did \(facts, oldest first\):\n([\s\S]*?)\n\nWrite the plan/.exec(prompt)?.[1] ?? "";
	const tokens = (plan?.usage.totalTokens ?? 0) + (actStage?.usage.totalTokens ?? 0);
	const ms = (plan?.durationMs ?? 0) + (actStage?.durationMs ?? 0) + (verify?.durationMs ?? 0);
	figures.push({ iteration: k, modelCalls: calls.length, tokens, wallMs: ms, memoryChars: memory.length });
	rows.push([String(k), String(calls.length), String(tokens), ms.toFixed(0), String(memory.length)]);
}
console.log(`pi-workflows task-loop bench: Pi ${VERSION}, node ${process.version}`);
console.log(`the task builtin, ${ITERATIONS} iterations (7 wrong attempts, then the fix), scripted model\n`);
printTable(["iteration", "model calls", "tokens", "plan+act+verify ms", "memory chars (given to plan)"], rows);
console.log(
	`\nrun: ${report.status}, ${wallMs} ms wall, ${report.usage.totalTokens} tokens, outputs ${JSON.stringify({ verified: report.outputs?.verified, iterations: report.outputs?.iterations })}`,
);
writeResults("task-loop", VERSION, { iterations: figures, wallMs, status: report.status });
rmSync(root, { recursive: true, force: true });

const largest = Math.max(...figures.map((figure) => figure.memoryChars));
if (report.outputs?.verified !== true || report.outputs?.iterations !== ITERATIONS) {
	console.error(
		`the run did not end verified after ${ITERATIONS} iterations: ${report.status} ${report.reason ?? ""}`,
	);
	process.exitCode = 1;
} else if (largest > MEMORY_BOUND) {
	console.error(`the memory grew past its bound: ${largest} > ${MEMORY_BOUND} characters`);
	process.exitCode = 1;
}
