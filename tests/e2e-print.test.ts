// End to end with the real `pi` CLI in print mode: the scripted provider is the only fake.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPiSandbox, type PiSandbox } from "./support/pi-cli.js";
import { REVIEW_ANSWERS, REVIEW_OUTPUTS } from "./support/review-script.js";

const ANSWER_BY_STAGE = `export const script = (r) => r.stage ? "answer of " + r.stage : "no stage";`;
/** Every model request of a completed review-change run: a reviewer submits then answers, and so does the synthesis. */
const REVIEW_CALLS = [
	"correctness",
	"correctness",
	"maintainability",
	"maintainability",
	"scout",
	"synthesis",
	"synthesis",
];

function runLine(stdout: string): { runId: string; status: string; report: string } {
	const match = /workflow run (\S+) (\S+) (\S+report\.json)/.exec(stdout);
	if (!match) throw new Error(`no summary line in: ${stdout}`);
	return { runId: match[1] as string, status: match[2] as string, report: match[3] as string };
}

describe("pi -p /workflow", () => {
	let sandbox: PiSandbox;
	afterEach(() => sandbox?.cleanup());

	it("runs a builtin with key=value inputs, writes report.json and exits 0", async () => {
		sandbox = createPiSandbox(REVIEW_ANSWERS);
		const result = await sandbox.run(["-p", '/workflow run review-change target="PR 12"']);
		expect(result.code).toBe(0);
		const line = runLine(result.stdout);
		expect(line.status).toBe("completed");
		const report = JSON.parse(readFileSync(line.report, "utf8"));
		expect(report.status).toBe("completed");
		expect(report.inputs).toEqual({ target: "PR 12" });
		expect(report.outputs).toEqual(REVIEW_OUTPUTS);
		// scout, correctness, maintainability, the findings tool node, synthesis.
		expect(report.stages).toHaveLength(5);
		expect(
			sandbox
				.calls()
				.map((call) => call.stage)
				.sort(),
		).toEqual(REVIEW_CALLS);
	});

	it("exits non-zero when the run fails, and still writes the report", async () => {
		sandbox = createPiSandbox(
			`export const script = (r) => r.stage === "scout" ? { error: "400 invalid request: bad parameter" } : "fine";`,
		);
		const result = await sandbox.run(["-p", "/workflow run review-change target=x"]);
		expect(result.code).toBe(1);
		const line = runLine(result.stdout);
		expect(line.status).toBe("failed");
		const report = JSON.parse(readFileSync(line.report, "utf8"));
		expect(report.errors).toEqual(['Workflow "review-change", stage "scout": 400 invalid request: bad parameter']);
		// The reason is printed under the summary line, and the command that resumes the run.
		const lines = result.stdout.split("\n").filter(Boolean);
		expect(lines.slice(1)).toEqual([
			'reason: Workflow "review-change", stage "scout": 400 invalid request: bad parameter',
			`resume: pi -p "/workflow resume ${line.runId}"`,
		]);
		const status = await sandbox.run(["-p", `/workflow status ${line.runId}`]);
		expect(status.stdout).toContain('reason: Workflow "review-change", stage "scout": 400 invalid request');
	});

	it("prints a finished run's outputs, and for a project workflow's question an answer command that works as printed", async () => {
		sandbox = createPiSandbox(ANSWER_BY_STAGE);
		const dir = join(sandbox.cwd, ".pi/workflows");
		mkdirSync(dir, { recursive: true });
		writeFileSync(
			join(dir, "ask.ts"),
			`import { workflow } from "pi-workflows";
import { Type } from "typebox";
export default workflow({
	name: "ask", description: "asks, then answers", outputs: { said: Type.String() },
	run: async (ctx) => {
		const ok = await ctx.ui.confirm("Go on?");
		return { said: ok ? (await ctx.task("speak", { prompt: "Speak" })).text : "no" };
	},
});`,
		);
		const asked = await sandbox.run(["--trust-workflows", "-p", "/workflow run ask"]);
		const { runId } = runLine(asked.stdout);
		const hint = asked.stdout.split("\n").find((row) => row.startsWith("answer: "));
		expect(hint).toBe(`answer: pi --trust-workflows -p "/workflow answer ${runId} confirm <yes or no>"`);
		// Followed as printed (its flags and its command), the answer finishes the run.
		const [, flags = "", command = ""] = /^answer: pi (.*)-p "(.*)"$/.exec(hint ?? "") ?? [];
		const printed = [...flags.split(" ").filter(Boolean), "-p", command.replace("<yes or no>", "yes")];
		const answered = await sandbox.run(printed);
		expect(answered.code, answered.stderr).toBe(0);
		expect(answered.stdout).toContain(`workflow run ${runId} completed`);
		expect(answered.stdout).toContain('outputs: {"said":"answer of speak"}');
	});

	it("describes a workflow: its inputs and outputs with types, whether required, descriptions, and how to run it", async () => {
		sandbox = createPiSandbox(ANSWER_BY_STAGE);
		const result = await sandbox.run(["-p", "/workflow describe review-change"]);
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toContain("review-change: Scout a change");
		expect(result.stdout).toMatch(/file: .*workflows\/review-change\.ts \[builtin\]/);
		expect(result.stdout).toContain("  target  string (required)  What to review: a diff, a branch or range");
		expect(result.stdout).toContain("  reviewerModel  string (optional)  Model for the correctness reviewer");
		expect(result.stdout).toContain(
			"  blockers  array of object with reviewer, severity, file, line, evidence, suggestion (required)",
		);
		expect(result.stdout).toContain("run it: /workflow run review-change target=...");
		expect(sandbox.calls()).toHaveLength(0);
	});

	it("lists past runs newest first, and refuses a prune age it cannot read, removing nothing", async () => {
		sandbox = createPiSandbox(REVIEW_ANSWERS);
		const { runId } = runLine((await sandbox.run(["-p", "/workflow run review-change target=x"])).stdout);
		const runs = await sandbox.run(["-p", "/workflow runs"]);
		expect(runs.stdout).toMatch(
			new RegExp(`^run +workflow +outcome +duration +cost +started +why\n${runId}  review-change  completed`),
		);
		const refused = await sandbox.run(["-p", "/workflow prune --older-than 30x"]);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toContain(
			'prune: --older-than: expected a number and a unit, m (minutes), h, d or w (like 30d or 12h), got "30x"; nothing was removed.',
		);
		const kept = await sandbox.run(["-p", "/workflow prune --older-than 1d"]);
		expect(kept.stdout).toContain("No run older than 1d to remove.");
		expect(existsSync(join(sandbox.cwd, ".pi/workflows/runs", runId, "journal.jsonl"))).toBe(true);
	});

	it("dry-runs a workflow (the graph, stages and models; nothing spent or written) and validates files, for CI", async () => {
		sandbox = createPiSandbox(ANSWER_BY_STAGE);
		const dry = await sandbox.run(["-p", "/workflow run review-change target=x --dry-run --allow-tools"]);
		expect(dry.code, dry.stdout + dry.stderr).toBe(0);
		expect(dry.stdout).toContain('Dry run of "review-change": completed; 4 stages on scripted/fast:medium (4).');
		expect(dry.stdout).toContain("┬ 2 in parallel");
		expect(sandbox.calls()).toHaveLength(0);
		expect(existsSync(join(sandbox.cwd, ".pi"))).toBe(false);
		// Without --allow-tools the findings file is never written: the dry run says so, and exits non-zero.
		const held = await sandbox.run(["-p", "/workflow run review-change target=x --dry-run"]);
		expect(held.code).toBe(1);
		expect(held.stdout).toContain('ctx.tool "findings" was not run; it returned null');
		const missing = await sandbox.run(["-p", "/workflow run review-change --dry-run"]);
		expect(missing.code).toBe(1);
		expect(missing.stderr).toContain('missing required input "target"');

		const dir = join(sandbox.cwd, "flows");
		mkdirSync(dir, { recursive: true });
		writeFileSync(
			join(dir, "good.ts"),
			'import { workflow } from "pi-workflows";\nexport default workflow({ description: "fine", run: async () => ({}) });\n',
		);
		writeFileSync(
			join(dir, "bad.ts"),
			'import { workflow } from "pi-workflows";\nexport default workflow({ name: "Bad" });\n',
		);
		const good = await sandbox.run(["--trust-workflows", "-p", "/workflow validate flows/good.ts"]);
		expect(good.code, good.stderr).toBe(0);
		expect(good.stdout).toContain(`${join(dir, "good.ts")}: valid workflow "good" (0 inputs, 0 outputs).`);
		const bad = await sandbox.run(["--trust-workflows", "-p", "/workflow validate flows/bad.ts"]);
		expect(bad.code).toBe(1);
		expect(bad.stderr).toContain('Workflow "Bad" is not a valid definition:\n- name: expected lower-case words');
		expect(bad.stderr).toContain("- description: expected a non-empty string, got undefined");
		expect(sandbox.calls()).toHaveLength(0);
	});

	it("attach in print mode gives a stage's transcript path and its last messages as text", async () => {
		sandbox = createPiSandbox(REVIEW_ANSWERS);
		const { runId } = runLine((await sandbox.run(["-p", "/workflow run review-change target=x"])).stdout);
		const attached = await sandbox.run(["-p", `/workflow attach ${runId} scout`]);
		expect(attached.code, attached.stderr).toBe(0);
		expect(attached.stdout).toMatch(
			new RegExp(`^Stage scout of run ${runId}: transcript \\S+scout\\.jsonl \\(2 messages\\)`),
		);
		expect(attached.stdout).toContain('user: Stage "scout" of workflow "review-change".');
		expect(attached.stdout).toMatch(/\nassistant: \S/);
		const unknown = await sandbox.run(["-p", `/workflow attach ${runId} nowhere`]);
		expect(unknown.code).toBe(1);
		expect(unknown.stderr).toContain(
			`Run ${runId} has no stage "nowhere" with a transcript (stages with one: scout, correctness`,
		);
	});

	it("errors on missing inputs, naming them, and starts nothing", async () => {
		sandbox = createPiSandbox(ANSWER_BY_STAGE);
		const result = await sandbox.run(["-p", "/workflow run review-change"]);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain('Workflow "review-change": invalid inputs:');
		expect(result.stderr).toContain('missing required input "target" (expected string)');
		expect(existsSync(join(sandbox.cwd, ".pi/workflows/runs"))).toBe(false);
	});

	it("suggests close names for an unknown workflow", async () => {
		sandbox = createPiSandbox(ANSWER_BY_STAGE);
		const result = await sandbox.run(["-p", "/workflow run review-chnage target=x"]);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain('Unknown workflow "review-chnage". Did you mean "review-change"?');
	});

	it("refuses an untrusted project workflow, and runs it with --trust-workflows", async () => {
		sandbox = createPiSandbox(ANSWER_BY_STAGE);
		mkdirSync(join(sandbox.cwd, ".pi/workflows"), { recursive: true });
		writeFileSync(
			join(sandbox.cwd, ".pi/workflows/hello.ts"),
			[
				'import { workflow } from "pi-workflows";',
				'import { Type } from "typebox";',
				"export default workflow({",
				'  name: "hello", description: "greets", inputs: { who: Type.String() }, outputs: { text: Type.String() },',
				// biome-ignore lint/suspicious/noTemplateCurlyInString: this is the workflow file's source text
				'  run: async (ctx) => ({ text: (await ctx.task("greet", { prompt: `Greet ${ctx.inputs.who}` })).text }),',
				"});",
			].join("\n"),
		);
		const refused = await sandbox.run(["-p", "/workflow run hello who=Ada"]);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toContain("is code from this repository and is not trusted yet");
		expect(refused.stderr).toContain("--trust-workflows");
		expect(sandbox.calls()).toHaveLength(0);

		const trusted = await sandbox.run(["--trust-workflows", "-p", "/workflow run hello who=Ada"]);
		expect(trusted.code).toBe(0);
		expect(runLine(trusted.stdout).status).toBe("completed");
		expect(sandbox.calls()[0]?.transcript[0]).toContain("Greet Ada");

		const byEnv = await sandbox.run(["-p", "/workflow run hello who=Bob"], { env: { PI_WORKFLOWS_TRUST: "1" } });
		expect(byEnv.code).toBe(0);
	});

	it("lists a broken workflow file with its error while the others still run", async () => {
		sandbox = createPiSandbox(REVIEW_ANSWERS);
		const userWorkflows = join(sandbox.agentDir, "workflows");
		mkdirSync(userWorkflows, { recursive: true });
		writeFileSync(join(userWorkflows, "broken.ts"), "export default workflow({ name: ");
		writeFileSync(join(userWorkflows, "not-a-workflow.ts"), "export default 42;");
		const list = await sandbox.run(["-p", "/workflow list"]);
		expect(list.code).toBe(0);
		expect(list.stdout).toMatch(/broken\s+\[user\] ERROR could not load/);
		expect(list.stdout).toMatch(/not-a-workflow\s+\[user\] ERROR expected a default export made with workflow/);
		expect(list.stdout).toMatch(/review-change\s+\[builtin\]/);
		const run = await sandbox.run(["-p", "/workflow run review-change target=x"]);
		expect(runLine(run.stdout).status).toBe("completed");
	});
});

describe("stages on the host's models", () => {
	let sandbox: PiSandbox;
	afterEach(() => sandbox?.cleanup());

	it("a provider another extension registered answers every stage, with the key given by --api-key", async () => {
		sandbox = createPiSandbox(REVIEW_ANSWERS);
		const result = await sandbox.run([
			"--api-key",
			"sk-from-the-command-line",
			"-p",
			"/workflow run review-change target=x",
		]);
		expect(result.code).toBe(0);
		expect(runLine(result.stdout).status).toBe("completed");
		const calls = sandbox.calls();
		expect(calls.map((call) => call.stage).sort()).toEqual(REVIEW_CALLS);
		// The provider was registered with its own key; the host's runtime key outranks it in every stage.
		expect(new Set(calls.map((call) => call.apiKey))).toEqual(new Set(["sk-from-the-command-line"]));
	});
});

describe("the workflow tool in print mode", () => {
	let sandbox: PiSandbox;
	afterEach(() => sandbox?.cleanup());

	it("runs a dynamic 3-step spec and the model's next call sees the result in the same turn", async () => {
		sandbox = createPiSandbox(`
export const script = (r) => {
	if (r.stage) return "STAGE-OUTPUT(" + r.stage + ")";
	if (!r.afterToolResult) {
		return { toolCalls: [{ name: "workflow", arguments: { action: "run", spec: {
			name: "triage", description: "plan, check twice, conclude",
			steps: [
				{ name: "plan", prompt: "Plan the triage" },
				{ parallel: [ { name: "check-a", prompt: "Check A" }, { name: "check-b", prompt: "Check B" } ] },
			],
		} } }] };
	}
	return "MODEL SAW: " + r.lastMessage;
};`);
		const result = await sandbox.run(["-p", "Triage the bug"]);
		expect(result.code).toBe(0);
		expect(result.stdout).toContain("MODEL SAW:");
		expect(result.stdout).toContain('Workflow "triage" run');
		expect(result.stdout).toContain("STAGE-OUTPUT(check-a)");
		expect(result.stdout).toContain("STAGE-OUTPUT(check-b)");
		const stages = sandbox
			.calls()
			.filter((call) => call.stage)
			.map((call) => call.stage);
		expect(stages.sort()).toEqual(["check-a", "check-b", "plan"]);
		// Both checks got the plan as their handoff.
		const checkA = sandbox.calls().find((call) => call.stage === "check-a");
		expect(checkA?.transcript[0]).toContain("STAGE-OUTPUT(plan)");
	});

	it("refuses an unknown action listing the valid ones, and a run with neither workflow nor spec naming both", async () => {
		sandbox = createPiSandbox(`
export const script = (r) => {
	const results = r.transcript.filter((line) => line.startsWith("toolResult:")).length;
	if (results === 0) return { toolCalls: [{ name: "workflow", arguments: { action: "launch" } }] };
	if (results === 1) return { toolCalls: [{ name: "workflow", arguments: { action: "run" } }] };
	return "SAW: " + r.transcript.filter((line) => line.startsWith("toolResult:")).join(" || ");
};`);
		const result = await sandbox.run(["-p", "Go"]);
		expect(result.stdout).toContain('Unknown action "launch": expected one of list, describe, run');
		expect(result.stdout).toContain('workflow action "run" needs "workflow"');
		expect(result.stdout).toContain('or "spec" (a one-off workflow as data), got neither');
		expect(existsSync(join(sandbox.cwd, ".pi/workflows/runs"))).toBe(false);
	});

	it("reports an invalid spec with every problem and its path, starting nothing", async () => {
		sandbox = createPiSandbox(`
export const script = (r) => {
	if (!r.afterToolResult) {
		return { toolCalls: [{ name: "workflow", arguments: { action: "run", spec: {
			name: "Bad Name", steps: [ { name: "a" }, { parallel: [ { name: "a", prompt: "x", outputMode: "file-only" } ] } ],
		} } }] };
	}
	return "ERR: " + r.lastMessage;
};`);
		const result = await sandbox.run(["-p", "Go"]);
		expect(result.stdout).toContain('Invalid workflow spec "Bad Name":');
		expect(result.stdout).toContain('name: expected lower-case words joined by "-", got "Bad Name"');
		expect(result.stdout).toContain("steps[0].prompt: expected a non-empty string, got undefined");
		expect(result.stdout).toContain('steps[1].parallel[0].name: "a" is already used at steps[0]');
		expect(result.stdout).toContain('steps[1].parallel[0].outputMode: "file-only" needs "output"');
		expect(existsSync(join(sandbox.cwd, ".pi/workflows/runs"))).toBe(false);
	});

	it("a spec's steps beyond the tool's one-run budget never start: the run is blocked, the model told why", async () => {
		sandbox = createPiSandbox(`
export const script = (r) => {
	if (r.stage) return "done " + r.stage;
	if (!r.afterToolResult) {
		return { toolCalls: [{ name: "workflow", arguments: { action: "run", budget: "stages=2", spec: {
			name: "three", description: "three steps", steps: [
				{ name: "one", prompt: "One" }, { name: "two", prompt: "Two" }, { name: "three", prompt: "Three" },
			],
		} } }] };
	}
	return "MODEL SAW: " + r.lastMessage;
};`);
		const result = await sandbox.run(["-p", "Go"]);
		expect(result.stdout).toContain("MODEL SAW:");
		expect(result.stdout).toContain(
			'budget: 2 stages reached the limit of 2 stages (maxStages) before stage "three" started',
		);
		const stages = sandbox.calls().flatMap((call) => (call.stage ? [call.stage] : []));
		expect(stages).toEqual(["one", "two"]);
	});
});

describe("pi -p /workflow run and resume with --budget", () => {
	let sandbox: PiSandbox;
	afterEach(() => sandbox?.cleanup());

	it("stops at the one-run limit, and a resume with a larger one finishes without re-running stages", async () => {
		sandbox = createPiSandbox(REVIEW_ANSWERS);
		const run = await sandbox.run(["-p", '/workflow run review-change --budget stages=1 target="PR 12"']);
		expect(run.code).toBe(1);
		const line = runLine(run.stdout);
		expect(line.status).toBe("blocked");
		const blocked = JSON.parse(readFileSync(line.report, "utf8"));
		expect(blocked.inputs).toEqual({ target: "PR 12" });
		expect(blocked.reason).toMatch(/^budget: 1 stage reached the limit of 1 stage \(maxStages\) before stage/);
		expect(blocked.budget.limits.maxStages).toBe(1);
		expect(sandbox.calls().map((call) => call.stage)).toEqual(["scout"]);

		const resumed = await sandbox.run(["-p", `/workflow resume ${line.runId} --budget stages=10`]);
		expect(resumed.code).toBe(0);
		expect(runLine(resumed.stdout).status).toBe("completed");
		const report = JSON.parse(readFileSync(line.report, "utf8"));
		expect(report.budget.limits.maxStages).toBe(10);
		expect(report.stages.find((stage: { id: string }) => stage.id === "scout").replayed).toBe(true);
		// scout ran once, in the first process.
		expect(sandbox.calls().filter((call) => call.stage === "scout")).toHaveLength(1);
	});

	it("refuses a --budget that does not parse, naming the part, and starts nothing", async () => {
		sandbox = createPiSandbox(ANSWER_BY_STAGE);
		const result = await sandbox.run(["-p", "/workflow run review-change --budget cost=lots target=x"]);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain('Workflow "review-change": --budget "cost=lots": "cost=lots": expected a number');
		expect(result.stderr).toContain("nothing was started");
		expect(existsSync(join(sandbox.cwd, ".pi/workflows/runs"))).toBe(false);
		expect(sandbox.calls()).toEqual([]);
	});
});
