// Run control across real `pi` processes: a run started by one process is paused, steered or cancelled
// from another, resumed by a later one, and bad resumes are refused without touching the disk. The
// scripted model holds a stage's answer (an abortable delay while PI_TEST_HOLD=1, or until a gate file
// exists), and the tests wait on the calls file and the runs folder, never on fixed sleeps.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import { createPiSandbox, type PiProcess, type PiSandbox } from "./support/pi-cli.js";
import { RpcDriver } from "./support/rpc-driver.js";

const TEST_TIMEOUT = 120_000;
const HOLD = { PI_TEST_HOLD: "1" };

/**
 * "work" reads notes.txt, then (with PI_TEST_HOLD=1) holds its second answer until the run stops it;
 * "left" and "right" hold too; "draft" holds its first answer until the file `gate` exists. A stage
 * continued on resume answers "resumed <stage>: <the continuation message>".
 */
const SCRIPT = `import { existsSync } from "node:fs";
const gate = new URL("./gate", import.meta.url);
const hold = () => ({ text: "never delivered", delayMs: 600000 });
export const script = async (r) => {
	const holding = process.env.PI_TEST_HOLD === "1";
	// A provider that never answers and ignores every abort, its request (an interval here) holding the process open.
	if (r.stage === "mute") return new Promise(() => { setInterval(() => {}, 60000); });
	if (r.lastMessage.includes("has now been resumed")) return "resumed " + r.stage + ": " + r.lastMessage;
	if (r.stage === "work") {
		if (!r.afterToolResult) return { toolCalls: [{ name: "read", arguments: { path: "notes.txt" } }] };
		return holding ? hold() : "answer of work";
	}
	if ((r.stage === "left" || r.stage === "right") && holding) return hold();
	if (r.stage === "draft") {
		if (r.stageCall > 1) return "draft after: " + r.lastMessage;
		while (!existsSync(gate)) await new Promise((done) => setTimeout(done, 10));
		return "first draft";
	}
	return "answer of " + r.stage;
};`;

const WORKFLOWS: Record<string, string> = {
	pausable: `
	run: async (ctx) => {
		await ctx.task("first", { prompt: "Do the first part" });
		await ctx.task("work", { prompt: "Read notes.txt, then answer" });
		return { result: (await ctx.task("last", { prompt: "Wrap up" })).text };
	},`,
	steerable: `
	run: async (ctx) => {
		await ctx.task("draft", { prompt: "Draft the change" });
		return { result: (await ctx.task("polish", { prompt: "Polish the draft" })).text };
	},`,
	mute: `
	run: async (ctx) => {
		await ctx.task("mute", { prompt: "Say something" });
		return { result: (await ctx.task("after", { prompt: "Conclude" })).text };
	},`,
	"fan-out": `
	run: async (ctx) => {
		await ctx.parallel([
			{ name: "left", prompt: "Check the left side" },
			{ name: "right", prompt: "Check the right side" },
		]);
		return { result: (await ctx.task("after", { prompt: "Conclude" })).text };
	},`,
};

/** A sandbox with every workflow above as a user workflow (no trust prompt) and notes.txt in the project;
 * `doomed` is `pausable` under another name, for the test that deletes its file. */
function createControlSandbox(): PiSandbox {
	const sandbox = createPiSandbox(SCRIPT);
	writeFileSync(join(sandbox.cwd, "notes.txt"), "NOTES-CONTENT\n");
	const dir = join(sandbox.agentDir, "workflows");
	mkdirSync(dir, { recursive: true });
	const files = { ...WORKFLOWS, doomed: WORKFLOWS.pausable };
	for (const [name, run] of Object.entries(files)) {
		writeFileSync(
			join(dir, `${name}.ts`),
			[
				'import { workflow } from "pi-workflows";',
				'import { Type } from "typebox";',
				"export default workflow({",
				`	name: ${JSON.stringify(name)},`,
				`	description: "control test workflow ${name}",`,
				"	inputs: {},",
				"	outputs: { result: Type.String() },",
				`${run}`,
				"});",
				"",
			].join("\n"),
		);
	}
	return sandbox;
}

/** Background pi processes this file started; a failed test must not leave one holding a stage. */
const started: PiProcess[] = [];

/** Starts `pi -p <command>` in the background. */
function startPi(sandbox: PiSandbox, command: string, env: Record<string, string> = {}): PiProcess {
	const proc = sandbox.start(["-p", command], { env });
	started.push(proc);
	return proc;
}

async function stopLeftovers(): Promise<void> {
	const left = started.splice(0).filter((proc) => !proc.exited);
	for (const proc of left) proc.child.kill("SIGKILL");
	await Promise.all(left.map((proc) => proc.done));
}

/** Polls `condition` until it holds (an exception counts as "not yet": a line may be half written). */
async function waitUntil<T>(what: string, condition: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			const value = condition();
			if (value) return value;
		} catch {
			// Not readable yet.
		}
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
}

function runsFolder(sandbox: PiSandbox): string {
	return join(sandbox.cwd, ".pi/workflows/runs");
}

/** The id of the only run in the sandbox, once its journal exists. */
function waitForRunId(sandbox: PiSandbox): Promise<string> {
	return waitUntil("the run directory", () => {
		// Run folders only: `.open` lists the runs that may resume.
		const ids = readdirSync(runsFolder(sandbox), { withFileTypes: true }).filter(
			(entry) => entry.isDirectory() && !entry.name.startsWith("."),
		);
		const id = ids.length === 1 ? ids[0]?.name : undefined;
		return id && existsSync(join(runsFolder(sandbox), id, "journal.jsonl")) ? id : undefined;
	});
}

function waitForCall(sandbox: PiSandbox, what: string, match: (call: ScriptedRequest) => boolean) {
	return waitUntil(what, () => sandbox.calls().find(match));
}

function runDir(sandbox: PiSandbox, runId: string): string {
	return join(runsFolder(sandbox), runId);
}

function readReport(sandbox: PiSandbox, runId: string) {
	return JSON.parse(readFileSync(join(runDir(sandbox, runId), "report.json"), "utf8"));
}

function journalEvents(sandbox: PiSandbox, runId: string): Array<Record<string, unknown>> {
	return readFileSync(join(runDir(sandbox, runId), "journal.jsonl"), "utf8")
		.split("\n")
		.filter(Boolean)
		.map((line) => JSON.parse(line));
}

/** Every file and folder under `dir`, with file contents, to show that nothing on disk changed. */
function snapshot(dir: string): Record<string, string> {
	const found: Record<string, string> = {};
	const walk = (current: string) => {
		for (const name of readdirSync(current).sort()) {
			const full = join(current, name);
			const key = relative(dir, full);
			if (statSync(full).isDirectory()) {
				found[`${key}/`] = "";
				walk(full);
			} else found[key] = readFileSync(full, "base64");
		}
	};
	walk(dir);
	return found;
}

function summary(stdout: string, runId: string, status: string): void {
	expect(stdout).toMatch(new RegExp(`workflow run ${runId} ${status} \\S+/runs/${runId}/report\\.json`));
}

const isWorkHolding = (call: ScriptedRequest) => call.stage === "work" && call.afterToolResult;

describe("control of a run from another pi process (print mode)", () => {
	let sandbox: PiSandbox;
	afterEach(async () => {
		await stopLeftovers();
		sandbox?.cleanup();
	});

	it(
		"pauses a running stage from another process; a later process resumes it and the stage continues its transcript",
		async () => {
			sandbox = createControlSandbox();
			const owner = startPi(sandbox, "/workflow run pausable", HOLD);
			await waitForCall(sandbox, "the second model call of work", isWorkHolding);
			const runId = await waitForRunId(sandbox);

			const pause = await sandbox.run(["-p", `/workflow pause ${runId}`]);
			expect(pause.stderr).not.toMatch(/error/i);
			expect(pause.code).toBe(0);
			expect(pause.stdout).toContain(`Run ${runId} paused.`);
			const paused = await owner.done;
			expect(paused.code).toBe(0);
			summary(paused.stdout, runId, "paused");
			const pausedReport = readReport(sandbox, runId);
			expect(pausedReport.status).toBe("paused");
			expect(pausedReport.stages.map((stage: { id: string; status: string }) => [stage.id, stage.status])).toEqual([
				["first", "completed"],
				["work", "interrupted"],
			]);
			expect(existsSync(join(runDir(sandbox, runId), "run.lock"))).toBe(false);

			const status = await sandbox.run(["-p", `/workflow status ${runId}`]);
			expect(status.code).toBe(0);
			expect(status.stdout).toMatch(new RegExp(`${runId}\\s+pausable\\s+paused\\s`));

			const before = sandbox.calls().length;
			const resumed = await sandbox.run(["-p", `/workflow resume ${runId} focus on tests`]);
			expect(resumed.code).toBe(0);
			summary(resumed.stdout, runId, "completed");

			const later = sandbox.calls().slice(before);
			// Only the interrupted stage and the one after it called the model; "first" was replayed.
			expect(later.map((call) => call.stage)).toEqual(["work", "last"]);
			const continuation = later[0] as ScriptedRequest;
			expect(continuation.transcript[0]).toMatch(/^user: Stage "work" of workflow "pausable"/);
			expect(continuation.transcript.some((line) => line.startsWith("assistant: read("))).toBe(true);
			expect(continuation.transcript.some((line) => line.includes("NOTES-CONTENT"))).toBe(true);
			expect(continuation.lastMessage).toContain("has now been resumed");
			expect(continuation.lastMessage).toContain("focus on tests");

			const report = readReport(sandbox, runId);
			expect(report.status).toBe("completed");
			expect(report.outputs).toEqual({ result: "answer of last" });
			const work = report.stages.find((stage: { id: string }) => stage.id === "work");
			expect(work.rerun).toBe("continued from its transcript");
			expect(report.stages.find((stage: { id: string }) => stage.id === "first").replayed).toBe(true);
			expect(journalEvents(sandbox, runId).find((event) => event.type === "run_resumed")).toMatchObject({
				message: "focus on tests",
			});
			expect(existsSync(join(runDir(sandbox, runId), "run.lock"))).toBe(false);
		},
		TEST_TIMEOUT,
	);

	it(
		"pauses a run whose owner was killed, and a resume then completes it",
		async () => {
			sandbox = createControlSandbox();
			const owner = startPi(sandbox, "/workflow run pausable", HOLD);
			await waitForCall(sandbox, "the second model call of work", isWorkHolding);
			const runId = await waitForRunId(sandbox);
			owner.child.kill("SIGKILL");
			expect((await owner.done).signal).toBe("SIGKILL");
			expect(existsSync(join(runDir(sandbox, runId), "run.lock"))).toBe(true);

			const pause = await sandbox.run(["-p", `/workflow pause ${runId}`]);
			expect(pause.stderr).not.toMatch(/error/i);
			expect(pause.code).toBe(0);
			expect(pause.stdout).toContain(`Run ${runId} paused.`);
			expect(journalEvents(sandbox, runId).at(-1)).toMatchObject({ type: "run_paused" });
			expect(existsSync(join(runDir(sandbox, runId), "run.lock"))).toBe(false);
			const status = await sandbox.run(["-p", `/workflow status ${runId}`]);
			expect(status.stdout).toMatch(new RegExp(`${runId}\\s+pausable\\s+paused\\s`));

			const before = sandbox.calls().length;
			const resumed = await sandbox.run(["-p", `/workflow resume ${runId}`]);
			expect(resumed.code).toBe(0);
			summary(resumed.stdout, runId, "completed");
			const later = sandbox.calls().slice(before);
			expect(later.map((call) => call.stage)).toEqual(["work", "last"]);
			expect(later[0]?.lastMessage).toContain("has now been resumed");
			expect(readReport(sandbox, runId).status).toBe("completed");
		},
		TEST_TIMEOUT,
	);

	it(
		"steers a running stage from another process: its next model call gets the message; a stage not started yet gets it when it starts",
		async () => {
			sandbox = createControlSandbox();
			const owner = startPi(sandbox, "/workflow run steerable");
			await waitForCall(sandbox, "the first model call of draft", (call) => call.stage === "draft");
			const runId = await waitForRunId(sandbox);

			// A stage that has not started keeps the message, durably, and gets it in its first prompt.
			const queued = await sandbox.run(["-p", `/workflow steer ${runId} polish skip the docs`]);
			expect(queued.code).toBe(0);
			expect(queued.stdout).toContain(`Queued for stage "polish" of run ${runId}, which has not started`);

			const steer = await sandbox.run(["-p", `/workflow steer ${runId} draft also check the docs`]);
			expect(steer.code).toBe(0);
			expect(steer.stdout).toContain(`Delivered to stage "draft" of run ${runId}.`);
			writeFileSync(join(sandbox.root, "gate"), "");

			const finished = await owner.done;
			expect(finished.code).toBe(0);
			summary(finished.stdout, runId, "completed");
			const draftCalls = sandbox.calls().filter((call) => call.stage === "draft");
			expect(draftCalls).toHaveLength(2);
			expect(draftCalls[1]?.lastMessage).toBe("also check the docs");
			const steered = journalEvents(sandbox, runId).filter((event) => event.type === "node_steered");
			expect(steered).toEqual([expect.objectContaining({ stageId: "draft", message: "also check the docs" })]);
			expect(readReport(sandbox, runId).outputs).toEqual({ result: "answer of polish" });
			const polish = sandbox.calls().find((call) => call.stage === "polish");
			expect(polish?.transcript.join("\n")).toContain("skip the docs");
			expect(journalEvents(sandbox, runId).filter((event) => event.type === "node_queued")).toEqual([
				expect.objectContaining({ stageId: "polish", message: "skip the docs" }),
			]);
		},
		TEST_TIMEOUT,
	);

	it(
		"cancels a parallel group from another process: both branches stop, nothing after starts, and resume is refused",
		async () => {
			sandbox = createControlSandbox();
			const owner = startPi(sandbox, "/workflow run fan-out", HOLD);
			await waitUntil("both branches in flight", () => {
				const stages = new Set(sandbox.calls().map((call) => call.stage));
				return stages.has("left") && stages.has("right");
			});
			const runId = await waitForRunId(sandbox);

			const cancel = await sandbox.run(["-p", `/workflow cancel ${runId}`]);
			expect(cancel.code).toBe(0);
			expect(cancel.stdout).toContain(`Run ${runId} cancelled.`);
			const cancelled = await owner.done;
			expect(cancelled.code).not.toBe(0);
			summary(cancelled.stdout, runId, "cancelled");

			const report = readReport(sandbox, runId);
			expect(report.status).toBe("cancelled");
			expect(report.stages.map((stage: { id: string; status: string }) => [stage.id, stage.status]).sort()).toEqual([
				["left", "cancelled"],
				["right", "cancelled"],
			]);
			expect(sandbox.calls().filter((call) => call.stage === "after")).toEqual([]);

			const journal = readFileSync(join(runDir(sandbox, runId), "journal.jsonl"));
			const resume = await sandbox.run(["-p", `/workflow resume ${runId}`]);
			expect(resume.code).not.toBe(0);
			expect(resume.stderr).toMatch(/was cancelled \(cancelled by the user\); a cancelled run is not resumed/);
			expect(readFileSync(join(runDir(sandbox, runId), "journal.jsonl"))).toEqual(journal);
			expect(existsSync(join(runDir(sandbox, runId), "run.lock"))).toBe(false);
			expect(sandbox.calls().filter((call) => call.stage === "after")).toEqual([]);
		},
		TEST_TIMEOUT,
	);

	it(
		"cancels from another process a stage whose model never answers and ignores the stop: journaled at once, the owner ends",
		async () => {
			sandbox = createControlSandbox();
			const owner = startPi(sandbox, "/workflow run mute");
			await waitForCall(sandbox, "the call of mute", (call) => call.stage === "mute");
			const runId = await waitForRunId(sandbox);

			const cancel = await sandbox.run(["-p", `/workflow cancel ${runId}`]);
			expect(cancel.code).toBe(0);
			// Answered in bounded time: the run's end, or that the cancel is accepted and the stage is stopping.
			expect(cancel.stdout).toMatch(
				new RegExp(`Run ${runId}( cancelled\\.|: the cancel was accepted and journaled)`),
			);
			// The owner ends: the abandoned request does not keep it up after the run was reported.
			const ended = await owner.done;
			expect(ended.signal).toBeNull();
			summary(ended.stdout, runId, "cancelled");

			const events = journalEvents(sandbox, runId);
			const types = events.map((event) => event.type);
			expect(types.indexOf("run_stopping")).toBeGreaterThan(-1);
			expect(types.indexOf("run_stopping")).toBeLessThan(types.indexOf("run_finished"));
			const report = readReport(sandbox, runId);
			expect(report.status).toBe("cancelled");
			const mute = report.stages.find((stage: { id: string }) => stage.id === "mute");
			expect(mute.status).toBe("cancelled");
			expect(mute.error).toMatch(/the provider ignored the stop for \d+ s, so the session was abandoned/);
			expect(sandbox.calls().filter((call) => call.stage === "after")).toEqual([]);
			expect(existsSync(join(runDir(sandbox, runId), "run.lock"))).toBe(false);
		},
		TEST_TIMEOUT,
	);
});

describe("a steer acknowledged just before a pause", () => {
	let sandbox: PiSandbox;
	let runId: string;
	let continuation: ScriptedRequest | undefined;
	beforeAll(async () => {
		sandbox = createControlSandbox();
		const owner = startPi(sandbox, "/workflow run pausable", HOLD);
		await waitForCall(sandbox, "the second model call of work", isWorkHolding);
		runId = await waitForRunId(sandbox);
		const steer = await sandbox.run(["-p", `/workflow steer ${runId} work also check the docs`]);
		expect(steer.stdout).toContain(`Delivered to stage "work" of run ${runId}.`);
		const pause = await sandbox.run(["-p", `/workflow pause ${runId}`]);
		expect(pause.stdout).toContain(`Run ${runId} paused.`);
		summary((await owner.done).stdout, runId, "paused");
		const before = sandbox.calls().length;
		const resumed = await sandbox.run(["-p", `/workflow resume ${runId}`]);
		summary(resumed.stdout, runId, "completed");
		continuation = sandbox
			.calls()
			.slice(before)
			.find((call) => call.stage === "work");
		expect(continuation?.lastMessage).toContain("has now been resumed");
	}, TEST_TIMEOUT);
	afterAll(async () => {
		await stopLeftovers();
		sandbox?.cleanup();
	});

	it("is journaled as node_steered", () => {
		expect(journalEvents(sandbox, runId).filter((event) => event.type === "node_steered")).toEqual([
			expect.objectContaining({ stageId: "work", message: "also check the docs" }),
		]);
	});

	// The steer sat in the stage session's queue when the pause aborted it; the journaled steer that never
	// reached the transcript is handed to the resumed stage with its continuation message.
	it("reaches the stage when the run is resumed", () => {
		expect(continuation?.lastMessage).toContain("Message from the user while you worked: also check the docs");
	});
});

describe("control in pi --mode rpc", () => {
	let sandbox: PiSandbox;
	let driver: RpcDriver | undefined;
	afterEach(async () => {
		await driver?.close();
		driver = undefined;
		await stopLeftovers();
		sandbox?.cleanup();
	});

	it(
		"pauses a background run with /workflow pause, then resumes it to completion with a message",
		async () => {
			sandbox = createControlSandbox();
			driver = new RpcDriver({ ...sandbox, env: { ...sandbox.env, ...HOLD } });
			driver.prompt("/workflow run pausable");
			const started = await driver.notification(/Started workflow "pausable" as run/);
			const runId = /as run (\S+)\./.exec(started)?.[1] ?? "";
			await waitForCall(sandbox, "the second model call of work", isWorkHolding);

			driver.prompt(`/workflow pause ${runId}`);
			const [pausedNote, pausedMessage] = await Promise.all([
				driver.notification(new RegExp(`Run ${runId} paused\\.`)),
				driver.waitFor((m) => m.type === "message_end" && JSON.stringify(m).includes(`run ${runId} paused`)),
			]);
			expect(pausedNote).toBe(
				`Run ${runId} paused. Resume it with /workflow resume ${runId} (finished stages are not run again).`,
			);
			expect(JSON.stringify(pausedMessage)).toContain("workflow-run");
			expect(readReport(sandbox, runId).status).toBe("paused");

			const before = sandbox.calls().length;
			driver.prompt(`/workflow resume ${runId} focus on tests`);
			const [resumedNote] = await Promise.all([
				driver.notification(new RegExp(`Resumed run ${runId}`)),
				driver.waitFor((m) => m.type === "message_end" && JSON.stringify(m).includes(`run ${runId} completed`)),
			]);
			expect(resumedNote).toBe(`Resumed run ${runId}.`);
			const later = sandbox.calls().slice(before);
			expect(later.map((call) => call.stage)).toEqual(["work", "last"]);
			expect(later[0]?.lastMessage).toContain("focus on tests");
			expect(readReport(sandbox, runId).status).toBe("completed");
		},
		TEST_TIMEOUT,
	);

	it(
		"a new session offers a run whose owner died, resumes nothing unasked, and resumes it when asked",
		async () => {
			sandbox = createControlSandbox();
			const owner = startPi(sandbox, "/workflow run pausable", HOLD);
			await waitForCall(sandbox, "the second model call of work", isWorkHolding);
			const runId = await waitForRunId(sandbox);
			owner.child.kill("SIGKILL");
			await owner.done;
			const before = sandbox.calls().length;
			const journal = readFileSync(join(runDir(sandbox, runId), "journal.jsonl"));

			driver = new RpcDriver(sandbox);
			const notice = await driver.notification(/can be resumed/);
			expect(notice).toMatch(new RegExp(`${runId}\\s+pausable\\s+interrupted\\s+1/2 stages done`));
			expect(notice).toContain("/workflow resume <run>");
			driver.prompt(`/workflow status ${runId}`);
			expect(await driver.notification(new RegExp(runId))).toMatch(/\sinterrupted\s/);
			expect(sandbox.calls()).toHaveLength(before);
			expect(readFileSync(join(runDir(sandbox, runId), "journal.jsonl"))).toEqual(journal);

			driver.prompt(`/workflow resume ${runId}`);
			await driver.waitFor((m) => m.type === "message_end" && JSON.stringify(m).includes(`run ${runId} completed`));
			expect(
				sandbox
					.calls()
					.slice(before)
					.map((call) => call.stage),
			).toEqual(["work", "last"]);
		},
		TEST_TIMEOUT,
	);
});

describe("/workflow resume refuses bad runs and changes nothing on disk", () => {
	let sandbox: PiSandbox;
	/** A run of `doomed` whose owner was killed while "work" was running. */
	let runId: string;
	let twin: string;
	const NEWER = "NEWER-RUN";
	const NO_JOURNAL = "NO-JOURNAL";

	beforeAll(async () => {
		sandbox = createControlSandbox();
		const owner = startPi(sandbox, "/workflow run doomed", HOLD);
		await waitForCall(sandbox, "the second model call of work", isWorkHolding);
		runId = await waitForRunId(sandbox);
		owner.child.kill("SIGKILL");
		await owner.done;
		const original = runDir(sandbox, runId);
		// Run ids are random, so an ambiguous prefix is made by copying the run under a name sharing its first
		// character; the other copies use upper-case names, which no run id has.
		twin = `${runId.slice(0, 1)}-twin`;
		cpSync(original, runDir(sandbox, twin), { recursive: true });
		cpSync(original, runDir(sandbox, NEWER), { recursive: true });
		rmSync(join(runDir(sandbox, NEWER), "run.lock"));
		const journal = join(runDir(sandbox, NEWER), "journal.jsonl");
		const [header = "", ...rest] = readFileSync(journal, "utf8").split("\n");
		writeFileSync(journal, [JSON.stringify({ ...JSON.parse(header), version: 99 }), ...rest].join("\n"));
		cpSync(original, runDir(sandbox, NO_JOURNAL), { recursive: true });
		rmSync(join(runDir(sandbox, NO_JOURNAL), "journal.jsonl"));
		rmSync(join(runDir(sandbox, NO_JOURNAL), "run.lock"));
	}, TEST_TIMEOUT);
	afterAll(async () => {
		await stopLeftovers();
		sandbox?.cleanup();
	});

	/** Runs `/workflow resume <args>`, expects a refusal, and checks that the runs folder is byte for byte the same. */
	async function refusedResume(args: string): Promise<string> {
		const before = snapshot(runsFolder(sandbox));
		const calls = sandbox.calls().length;
		const result = await sandbox.run(["-p", `/workflow resume ${args}`]);
		expect(result.code).not.toBe(0);
		expect(result.stdout).not.toMatch(/workflow run \S+ \w+ /);
		expect(snapshot(runsFolder(sandbox))).toEqual(before);
		expect(sandbox.calls()).toHaveLength(calls);
		return result.stderr;
	}

	it(
		"an unknown run id",
		async () => {
			expect(await refusedResume("nosuchrun")).toContain('no run with id "nosuchrun"');
		},
		TEST_TIMEOUT,
	);

	it(
		"an ambiguous run id prefix, naming both matches",
		async () => {
			const stderr = await refusedResume(runId.slice(0, 1));
			expect(stderr).toContain(`run id prefix "${runId.slice(0, 1)}" is ambiguous`);
			expect(stderr).toContain(runId);
			expect(stderr).toContain(twin);
		},
		TEST_TIMEOUT,
	);

	it(
		"a run folder without a journal",
		async () => {
			expect(await refusedResume(NO_JOURNAL)).toMatch(
				new RegExp(`${NO_JOURNAL} has no journal .*cannot be shown or resumed`),
			);
			expect(existsSync(join(runDir(sandbox, NO_JOURNAL), "run.lock"))).toBe(false);
		},
		TEST_TIMEOUT,
	);

	it(
		"a journal written by a newer version",
		async () => {
			const stderr = await refusedResume(NEWER);
			expect(stderr).toContain("was written by a newer pi-workflows (journal version 99");
			expect(stderr).toContain("Update pi-workflows");
			expect(existsSync(join(runDir(sandbox, NEWER), "run.lock"))).toBe(false);
		},
		TEST_TIMEOUT,
	);

	it(
		"a run whose workflow file was removed since it started, naming the file",
		async () => {
			const file = join(sandbox.agentDir, "workflows", "doomed.ts");
			rmSync(file);
			const stderr = await refusedResume(runId);
			expect(stderr).toContain(`Run ${runId} of workflow "doomed" cannot be resumed`);
			expect(stderr).toContain(`its workflow file ${file} is gone (removed, or moved out of the project)`);
		},
		TEST_TIMEOUT,
	);
});
