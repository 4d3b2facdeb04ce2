// Human gates end to end with the real `pi` CLI: a workflow's ctx.ui questions become rpc dialogs that the
// client answers (`pi --mode rpc`), and stops that print mode reports and `pi -p "/workflow answer ..."`
// continues in a new process (yes, no, invalid answers, select by number). A run killed with SIGKILL while
// its rpc dialog is open is answered and finished from print mode, asked once, with no model call for the
// stage that completed before the kill. Bad answers (a run that is not waiting, an unknown prompt id) and
// an empty select list fail with errors that say what is wrong. Waits are on the journal and the rpc
// protocol, never on fixed sleeps.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runPaths } from "../extensions/workflows/store/run-directory.js";
import { isQuestionStart, journalEvents, label } from "./support/journal-lines.js";
import { createPiSandbox, type PiResult, type PiSandbox } from "./support/pi-cli.js";
import { RpcDriver } from "./support/rpc-driver.js";

const TEST_TIMEOUT = 120_000;

/** Stages answer "answer of <stage>". The main session (print mode, no stage) calls the workflow tool with the
 * arguments in PI_TEST_TOOL_CALL, then answers with what the tool returned. */
const SCRIPT = `export const script = (r) => {
	if (r.stage) return "answer of " + r.stage;
	if (r.afterToolResult) return "MODEL SAW: " + r.lastMessage;
	return { toolCalls: [{ name: "workflow", arguments: JSON.parse(process.env.PI_TEST_TOOL_CALL ?? "{}") }] };
};`;

/** The user workflows of every sandbox: name -> the `outputs` and `run` of its declaration. */
const WORKFLOWS: Record<string, string> = {
	// The review-and-approve pattern: plan, ask, implement; a no cancels.
	"review-and-approve": `
	outputs: { result: Type.String() },
	run: async (ctx) => {
		const plan = await ctx.task("plan", { prompt: "Plan the change" });
		if (!(await ctx.ui.confirm("Approve this plan? " + plan.text))) ctx.cancel("not approved");
		const done = await ctx.task("implement", { prompt: "Implement the plan", previous: plan });
		return { result: done.text };
	},`,
	pick: `
	outputs: { model: Type.String(), result: Type.String() },
	run: async (ctx) => {
		const model = await ctx.ui.select("Which model?", ["fast", "smart"]);
		const built = await ctx.task("build", { prompt: "Build it with " + model });
		return { model, result: built.text };
	},`,
	note: `
	outputs: { result: Type.String() },
	run: async (ctx) => {
		const text = await ctx.ui.input("What should the note say?", { placeholder: "a sentence" });
		return { result: (await ctx.task("write", { prompt: "Write a note saying: " + text })).text };
	},`,
	plain: `
	outputs: { result: Type.String() },
	run: async (ctx) => ({ result: (await ctx.task("only", { prompt: "Do it" })).text }),`,
	"empty-select": `
	outputs: { picked: Type.String() },
	run: async (ctx) => ({ picked: await ctx.ui.select("Nothing to pick", []) }),`,
};

/** A sandbox whose stages answer "answer of <stage>", with the workflows above in `<agentDir>/workflows`. */
function createGatesSandbox(): PiSandbox {
	const sandbox = createPiSandbox(SCRIPT);
	const dir = join(sandbox.agentDir, "workflows");
	mkdirSync(dir, { recursive: true });
	for (const [name, body] of Object.entries(WORKFLOWS)) {
		writeFileSync(
			join(dir, `${name}.ts`),
			[
				'import { workflow } from "pi-workflows";',
				'import { Type } from "typebox";',
				"export default workflow({",
				`	name: ${JSON.stringify(name)},`,
				`	description: "gates test workflow ${name}",`,
				"	inputs: {},",
				body,
				"});",
				"",
			].join("\n"),
		);
	}
	return sandbox;
}

/** Polls `condition` until it holds; fails early when the watched process has exited. */
async function waitUntil(what: string, condition: () => boolean, gone?: () => string | undefined): Promise<void> {
	const deadline = Date.now() + 30_000;
	while (!condition()) {
		const exited = gone?.();
		if (exited) throw new Error(`pi exited before ${what}:\n${exited}`);
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((done) => setTimeout(done, 20));
	}
}

/** The summary line print mode writes when a run stops. */
function summary(stdout: string): { runId: string; status: string; report: string } {
	const match = /^workflow run (\S+) (\S+) (\S+report\.json)$/m.exec(stdout);
	if (!match) throw new Error(`no summary line in: ${stdout}`);
	return { runId: match[1] as string, status: match[2] as string, report: match[3] as string };
}

function readReport(sandbox: PiSandbox, runId: string) {
	return JSON.parse(readFileSync(runPaths(sandbox.cwd, runId).reportJson, "utf8"));
}

/** The stages whose model calls the sandbox's pi processes made (from the `from`-th call on), in order;
 * calls of the main session (no stage) are left out. */
function stagesCalled(sandbox: PiSandbox, from = 0): string[] {
	return sandbox
		.calls()
		.slice(from)
		.flatMap((call) => (call.stage ? [call.stage] : []));
}

/** `pi -p <command>` to its exit. */
function pi(sandbox: PiSandbox, command: string): Promise<PiResult> {
	return sandbox.run(["-p", command]);
}

/** Starts a workflow in print mode and expects it to stop at a question; returns the run and its journal. */
async function runToQuestion(sandbox: PiSandbox, name: string) {
	const result = await pi(sandbox, `/workflow run ${name}`);
	expect(result.code, result.stderr).toBe(0);
	const line = summary(result.stdout);
	expect(line.status).toBe("awaiting_input");
	return { result, runId: line.runId, paths: runPaths(sandbox.cwd, line.runId) };
}

describe("human gates in rpc mode", () => {
	let sandbox: PiSandbox | undefined;
	let driver: RpcDriver | undefined;
	afterEach(async () => {
		await driver?.close();
		driver = undefined;
		sandbox?.cleanup();
		sandbox = undefined;
	});

	it(
		"sends the run's confirm as an extension_ui_request dialog; a yes from the client lets implement run to completion",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			driver = new RpcDriver(box);
			driver.prompt("/workflow run review-and-approve");
			const started = await driver.notification(/Started workflow "review-and-approve" as run/);
			const runId = /as run (\S+)\./.exec(started)?.[1] ?? "";
			expect(runId).toMatch(/^[0-9a-z]{8}$/);

			const dialog = await driver.dialog();
			// A yes/no select, not Pi's confirm, which cannot tell a dismissed dialog from "no".
			expect(dialog).toMatchObject({
				method: "select",
				title: `Workflow run ${runId} asks: Approve this plan? answer of plan`,
				options: ["Yes", "No"],
			});
			// The run waits for the client: only plan has called the model, and the journal holds the question.
			const paths = runPaths(box.cwd, runId);
			expect(stagesCalled(box)).toEqual(["plan"]);
			expect(journalEvents(paths.journal).map(label)).toContain("started confirm");
			expect(journalEvents(paths.journal).map(label)).not.toContain("started implement");

			driver.answerDialog(dialog, "Yes");
			const done = await driver.waitFor(
				(m) => m.type === "message_end" && JSON.stringify(m).includes(`run ${runId} completed`),
			);
			expect(JSON.stringify(done)).toContain("answer of implement");

			expect(stagesCalled(box)).toEqual(["plan", "implement"]);
			const report = readReport(box, runId);
			expect(report.status).toBe("completed");
			expect(report.outputs).toEqual({ result: "answer of implement" });
			expect(report.prompts).toEqual([
				{ id: "confirm", kind: "confirm", message: "Approve this plan? answer of plan", answer: true },
			]);
			const events = journalEvents(paths.journal).map(label);
			expect(events.filter((event) => event.endsWith(" confirm"))).toEqual(["started confirm", "completed confirm"]);
		},
		TEST_TIMEOUT,
	);

	// Pi's confirm dialog resolves false when dismissed, so a run's confirm is shown as a yes/no select: closing it
	// leaves the question pending (and a notice says how to answer later) instead of answering "no".
	it(
		"a dismissed confirm dialog leaves the question pending instead of answering it no",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			driver = new RpcDriver(box);
			driver.prompt("/workflow run review-and-approve");
			const started = await driver.notification(/Started workflow "review-and-approve" as run/);
			const runId = /as run (\S+)\./.exec(started)?.[1] ?? "";
			driver.answerDialog(await driver.dialog("select"), undefined);

			// Whichever comes first: the notice that the question still waits, or the end of the run.
			const next = await driver.waitFor(
				(m) =>
					(m.type === "extension_ui_request" &&
						m.method === "notify" &&
						/waits for your answer/.test(String(m.message))) ||
					(m.type === "message_end" && JSON.stringify(m).includes(`run ${runId} `)),
			);
			// One comparison, so a diff shows what happened instead.
			const events = journalEvents(runPaths(box.cwd, runId).journal);
			expect({
				next: next.type === "message_end" ? "the run ended" : "a notice that the question waits",
				answers: events
					.filter((event) => event.type === "node_finished" && event.stageId === "confirm")
					.map((event) => event.result),
				ended: events.filter((event) => event.type === "run_finished").map((event) => event.status),
			}).toEqual({ next: "a notice that the question waits", answers: [], ended: [] });
		},
		TEST_TIMEOUT,
	);
});

describe("human gates in print mode", () => {
	let sandbox: PiSandbox | undefined;
	afterEach(() => {
		sandbox?.cleanup();
		sandbox = undefined;
	});

	it(
		"stops at the confirm (awaiting_input, exit 0, says how to answer); a yes in a new process runs implement, and plan is not called again",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			const { result, runId, paths } = await runToQuestion(box, "review-and-approve");
			expect(result.stdout.split("\n").filter(Boolean)).toEqual([
				`workflow run ${runId} awaiting_input ${paths.reportJson}`,
				"prompt confirm (confirm): Approve this plan? answer of plan",
				`answer: pi -p "/workflow answer ${runId} confirm <yes or no>"`,
			]);
			expect(readReport(box, runId)).toMatchObject({
				status: "awaiting_input",
				prompts: [{ id: "confirm", kind: "confirm", message: "Approve this plan? answer of plan" }],
			});
			expect(stagesCalled(box)).toEqual(["plan"]);

			const status = await pi(box, `/workflow status ${runId}`);
			expect(status.code, status.stderr).toBe(0);
			expect(status.stdout).toMatch(new RegExp(`^${runId}\\s+review-and-approve\\s+awaiting_input\\s`, "m"));

			const answered = await pi(box, `/workflow answer ${runId} yes`);
			expect(answered.code, answered.stderr).toBe(0);
			expect(answered.stdout.split("\n").filter(Boolean)).toEqual([
				`Answered prompt "confirm" of run ${runId}: true.`,
				`workflow run ${runId} completed ${paths.reportJson}`,
				`outputs: {"result":"answer of implement"}`,
			]);
			expect(stagesCalled(box)).toEqual(["plan", "implement"]);
			const report = readReport(box, runId);
			expect(report.status).toBe("completed");
			expect(report.outputs).toEqual({ result: "answer of implement" });
			expect(report.prompts).toEqual([
				{ id: "confirm", kind: "confirm", message: "Approve this plan? answer of plan", answer: true },
			]);
			expect(report.stages.find((stage: { id: string }) => stage.id === "plan")?.replayed).toBe(true);
			expect(journalEvents(paths.journal).filter(isQuestionStart)).toHaveLength(1);
		},
		TEST_TIMEOUT,
	);

	it(
		"a no in a new process ends the run cancelled (not approved) with exit 1, and implement is never called",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			const { runId, paths } = await runToQuestion(box, "review-and-approve");

			const answered = await pi(box, `/workflow answer ${runId} no`);
			// Cancelled counts as a run that did not complete: the headless summary exits non-zero.
			expect(answered.code).toBe(1);
			expect(answered.stdout.split("\n").filter(Boolean)).toEqual([
				`Answered prompt "confirm" of run ${runId}: false.`,
				`workflow run ${runId} cancelled ${paths.reportJson}`,
				"reason: not approved",
			]);
			expect(stagesCalled(box)).toEqual(["plan"]);
			const report = readReport(box, runId);
			expect(report.status).toBe("cancelled");
			expect(report.reason).toBe("not approved");
			expect(report.prompts).toEqual([
				{ id: "confirm", kind: "confirm", message: "Approve this plan? answer of plan", answer: false },
			]);
			const events = journalEvents(paths.journal);
			expect(events.map(label)).not.toContain("started implement");
			expect(events.filter((event) => event.type === "run_finished").map((event) => event.status)).toEqual([
				"cancelled",
			]);
		},
		TEST_TIMEOUT,
	);

	it(
		"refuses a confirm answer that is not yes or no, listing the valid forms; the journal is untouched and the run still waits",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			const { runId, paths } = await runToQuestion(box, "review-and-approve");
			const journal = readFileSync(paths.journal);

			const refused = await pi(box, `/workflow answer ${runId} maybe`);
			expect(refused.code).not.toBe(0);
			expect(refused.stderr).toContain(
				`Run ${runId}, prompt "confirm": expected yes or no (also y, n, true, false), got "maybe"; it is still waiting.`,
			);
			expect(refused.stdout).toBe("");
			expect(readFileSync(paths.journal).equals(journal)).toBe(true);
			expect(readReport(box, runId).status).toBe("awaiting_input");
			expect(stagesCalled(box)).toEqual(["plan"]);
		},
		TEST_TIMEOUT,
	);

	it(
		"a select takes its option's 1-based number; an out-of-range number is refused with the numbered options",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			const { result, runId, paths } = await runToQuestion(box, "pick");
			expect(result.stdout).toContain("prompt select (select): Which model?");
			expect(result.stdout).toContain(`answer: pi -p "/workflow answer ${runId} select <one of 1) fast, 2) smart>"`);
			expect(stagesCalled(box)).toEqual([]);
			const journal = readFileSync(paths.journal);

			const refused = await pi(box, `/workflow answer ${runId} 3`);
			expect(refused.code).not.toBe(0);
			expect(refused.stderr).toContain(
				`Run ${runId}, prompt "select": expected one of 1) fast, 2) smart (the option or its number), got "3"; it is still waiting.`,
			);
			expect(readFileSync(paths.journal).equals(journal)).toBe(true);

			const answered = await pi(box, `/workflow answer ${runId} select 2`);
			expect(answered.code, answered.stderr).toBe(0);
			expect(answered.stdout).toContain(`Answered prompt "select" of run ${runId}: "smart".`);
			expect(summary(answered.stdout).status).toBe("completed");
			expect(readReport(box, runId).outputs).toEqual({ model: "smart", result: "answer of build" });
			expect(box.calls().map((call) => [call.stage, call.transcript[0]?.includes("Build it with smart")])).toEqual([
				["build", true],
			]);
		},
		TEST_TIMEOUT,
	);
});

describe("a run killed with SIGKILL while its rpc dialog waits", () => {
	let sandbox: PiSandbox | undefined;
	let driver: RpcDriver | undefined;
	afterEach(async () => {
		await driver?.kill();
		driver = undefined;
		sandbox?.cleanup();
		sandbox = undefined;
	});

	it(
		"keeps the question pending on disk; `pi -p /workflow answer <run> yes` answers it once and finishes the run without calling plan again",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			const rpc = new RpcDriver(box);
			driver = rpc;
			rpc.prompt("/workflow run review-and-approve");
			const started = await rpc.notification(/Started workflow "review-and-approve" as run/);
			const runId = /as run (\S+)\./.exec(started)?.[1] ?? "";
			const paths = runPaths(box.cwd, runId);
			await waitUntil(
				"the question's start",
				() => journalEvents(paths.journal).some(isQuestionStart),
				() => (rpc.exited ? rpc.stderr : undefined),
			);
			await rpc.dialog("select");
			expect(await rpc.kill("SIGKILL")).toBe("SIGKILL");

			const atKill = journalEvents(paths.journal);
			expect(atKill.map(label)).toEqual(["run_started", "started plan", "completed plan", "started confirm"]);
			const callsAtKill = box.calls().length;
			expect(stagesCalled(box)).toEqual(["plan"]);

			const answered = await pi(box, `/workflow answer ${runId} yes`);
			expect(answered.code, answered.stderr).toBe(0);
			expect(answered.stdout.split("\n").filter(Boolean)).toEqual([
				`Answered prompt "confirm" of run ${runId}: true.`,
				`workflow run ${runId} completed ${paths.reportJson}`,
				`outputs: {"result":"answer of implement"}`,
			]);
			expect(stagesCalled(box, callsAtKill)).toEqual(["implement"]);
			const report = readReport(box, runId);
			expect(report.status).toBe("completed");
			expect(report.outputs).toEqual({ result: "answer of implement" });

			const events = journalEvents(paths.journal);
			expect(events.filter(isQuestionStart)).toHaveLength(1);
			expect(events.filter((event) => event.type === "node_finished" && event.stageId === "confirm")).toEqual([
				expect.objectContaining({ stageId: "confirm", status: "completed", result: true }),
			]);
			const afterKill = events.slice(atKill.length).map(label);
			expect(afterKill).toContain("run_resumed");
			expect(afterKill).toContain("replayed plan");
			expect(afterKill).not.toContain("started plan");
			expect(afterKill.at(-1)).toBe("run_finished");
		},
		TEST_TIMEOUT,
	);
});

describe("bad answers and bad questions", () => {
	let sandbox: PiSandbox | undefined;
	afterEach(() => {
		sandbox?.cleanup();
		sandbox = undefined;
	});

	it(
		"the workflow tool's answer action answers for the user and continues the run to completion",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			const { runId } = await runToQuestion(box, "review-and-approve");
			const byTool = await box.run(["-p", "The user approves the plan"], {
				env: { PI_TEST_TOOL_CALL: JSON.stringify({ action: "answer", run: runId, answer: "yes" }) },
			});
			expect(byTool.code, byTool.stderr).toBe(0);
			expect(byTool.stdout).toContain(`MODEL SAW: Answered prompt "confirm" of run ${runId}: true.`);
			expect(byTool.stdout).toContain(`Workflow "review-and-approve" run ${runId} completed.`);
			expect(readReport(box, runId).status).toBe("completed");
			expect(stagesCalled(box).filter((stage) => stage === "implement")).toHaveLength(1);
		},
		TEST_TIMEOUT,
	);

	it(
		"refuses to answer a run that is not waiting (it completed), changing nothing",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			const ran = await pi(box, "/workflow run plain");
			expect(ran.code, ran.stderr).toBe(0);
			const { runId, status } = summary(ran.stdout);
			expect(status).toBe("completed");
			const paths = runPaths(box.cwd, runId);
			const journal = readFileSync(paths.journal);
			const report = readFileSync(paths.reportJson);
			const calls = box.calls().length;

			const refused = await pi(box, `/workflow answer ${runId} yes`);
			expect(refused.code).not.toBe(0);
			expect(refused.stderr).toContain(`Run ${runId} is not waiting for an answer; nothing was changed.`);
			expect(refused.stdout).toBe("");
			expect(readFileSync(paths.journal).equals(journal)).toBe(true);
			expect(readFileSync(paths.reportJson).equals(report)).toBe(true);
			expect(box.calls()).toHaveLength(calls);
		},
		TEST_TIMEOUT,
	);

	it(
		"refuses an answer for a prompt id the run does not wait on, from the command and from the workflow tool, changing nothing",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			const { runId, paths } = await runToQuestion(box, "review-and-approve");
			const journal = readFileSync(paths.journal);

			const byCommand = await pi(box, `/workflow answer ${runId} confirm-2 yes`);
			expect(byCommand.code).not.toBe(0);
			expect(byCommand.stderr).toContain(`Run ${runId} has no pending prompt "confirm-2" (waiting: confirm).`);
			// The tool names the prompt on its own, and is told which prompts wait.
			const byTool = await box.run(["-p", "Answer the question"], {
				env: {
					PI_TEST_TOOL_CALL: JSON.stringify({ action: "answer", run: runId, prompt: "confirm-2", answer: "yes" }),
				},
			});
			expect(byTool.code, byTool.stderr).toBe(0);
			expect(byTool.stdout).toContain(
				`MODEL SAW: Run ${runId} has no pending prompt "confirm-2" (waiting: confirm).`,
			);

			expect(readFileSync(paths.journal).equals(journal)).toBe(true);
			expect(readReport(box, runId).status).toBe("awaiting_input");
			expect(stagesCalled(box)).toEqual(["plan"]);
		},
		TEST_TIMEOUT,
	);

	// A word shaped like a prompt id that names no waiting prompt is refused, never taken as part of the answer.
	it(
		"refuses a well-formed prompt id that is not waiting instead of answering an input prompt with it",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			const { result, runId, paths } = await runToQuestion(box, "note");
			expect(result.stdout).toContain(`answer: pi -p "/workflow answer ${runId} input <text>"`);
			const journal = readFileSync(paths.journal);

			const refused = await pi(box, `/workflow answer ${runId} input-2 hello`);
			// One comparison, so a diff shows what happened instead.
			const error = `Run ${runId} has no pending prompt "input-2" (waiting: input).`;
			expect({
				exitCode: refused.code === 0 ? 0 : "non-zero",
				output: refused.stderr.includes(error) ? error : `${refused.stdout}${refused.stderr}`.trim(),
				journalUnchanged: readFileSync(paths.journal).equals(journal),
				stagesCalled: stagesCalled(box),
			}).toEqual({ exitCode: "non-zero", output: error, journalUnchanged: true, stagesCalled: [] });
		},
		TEST_TIMEOUT,
	);

	it(
		"fails a run whose select has no options, naming the workflow and the prompt",
		async () => {
			const box = createGatesSandbox();
			sandbox = box;
			const ran = await pi(box, "/workflow run empty-select");
			expect(ran.code).toBe(1);
			const { runId, status } = summary(ran.stdout);
			expect(status).toBe("failed");
			const report = readReport(box, runId);
			expect(report.status).toBe("failed");
			expect(report.errors).toEqual([
				'Workflow "empty-select", stage "select": select: expected a non-empty list of options, got []',
			]);
			expect(report.prompts).toEqual([]);
			// The bad question is a failed node: nothing waits, nothing was answered.
			expect(journalEvents(runPaths(box.cwd, runId).journal).map(label)).toEqual(
				expect.arrayContaining(["started select", "failed select"]),
			);
		},
		TEST_TIMEOUT,
	);
});
