// The `loop-until-done` builtin end to end with the scripted model: the same prompt in a fresh context each
// iteration, progress kept in progress.md, until a check command passes or the stage's verdict says done. Also the
// iteration limit, no progress, a check whose program does not exist, and a resume that replays the finished
// iterations without a model call.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ScriptedReply, ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import loopUntilDone from "../workflows/loop-until-done.js";
import { deferred } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

const PROMPT = "Write the three parts of the report";
const CHECK = "test -f done.txt";

/** What the scripted stage does in one iteration. */
interface IterationPlan {
	/** The whole progress file this iteration leaves (unchanged when absent). */
	progress?: string;
	/** Other files it writes, relative to the project. */
	files?: Record<string, string>;
	/** The verdict it submits (verdict mode). */
	verdict?: { done: boolean; evidence: string };
}

/** Which iteration a stage id is: work is 1, work-2 is 2. */
function iterationOf(stage: string | undefined): number {
	const match = /^work(?:-(\d+))?$/.exec(stage ?? "");
	return match ? Number(match[1] ?? 1) : 0;
}

/** Notes 1 to n, one line each: what iteration n leaves in the progress file. */
function notes(n: number): string {
	return Array.from({ length: n }, (_, index) => `note ${index + 1}\n`).join("");
}

/**
 * A stage following its plan, one step per model call: it reads the file it is handed (if any), writes the progress
 * file and its other files, submits its verdict (if any), then says it is finished.
 */
function follow(plan: IterationPlan, request: ScriptedRequest): ScriptedReply {
	const prompt = request.transcript[0] ?? "";
	const progressFile = /update (\S+) with your write or edit tools/.exec(prompt)?.[1] ?? "";
	const handed = /Read these files before you answer:\n- (\S+)/.exec(prompt)?.[1];
	const writes = [
		...(plan.progress !== undefined ? [{ path: progressFile, content: plan.progress }] : []),
		...Object.entries(plan.files ?? {}).map(([path, content]) => ({ path, content })),
	];
	const steps: ScriptedReply[] = [
		...(handed ? [{ toolCalls: [{ name: "read", arguments: { path: handed } }] }] : []),
		...(writes.length > 0 ? [{ toolCalls: writes.map((args) => ({ name: "write", arguments: args })) }] : []),
		...(plan.verdict ? [{ toolCalls: [{ name: "submit_result", arguments: plan.verdict }] }] : []),
	];
	const step = request.transcript.filter((entry) => entry.startsWith("assistant:")).length;
	return steps[step] ?? `iteration ${iterationOf(request.stage)} finished`;
}

describe("the loop-until-done builtin", () => {
	let harness: Harness;
	let plans: (iteration: number) => IterationPlan;
	let hold: ((request: ScriptedRequest) => Promise<void> | undefined) | undefined;
	beforeEach(async () => {
		plans = () => ({});
		hold = undefined;
		harness = await createHarness(async (request) => {
			await hold?.(request);
			return follow(plans(iterationOf(request.stage)), request);
		});
	});
	afterEach(() => harness.cleanup());

	/** Each iteration adds its note; the third also makes the check pass. */
	const threeNotes = (iteration: number): IterationPlan => ({
		progress: notes(iteration),
		...(iteration === 3 ? { files: { "done.txt": "done\n" } } : {}),
	});

	const firstCalls = (): ScriptedRequest[] =>
		harness.provider.calls.filter((call) => call.transcript.length === 1 && call.stage?.startsWith("work"));

	it("runs until the check passes, each iteration in a fresh context reading the last one's notes", async () => {
		plans = threeNotes;
		const report = await harness.run(loopUntilDone, { prompt: PROMPT, check: CHECK });
		expect(report.status).toBe("completed");
		expect(report.outputs).toMatchObject({ done: true, iterations: 3, progress: notes(3) });
		expect(String(report.outputs?.evidence)).toContain(`$ ${CHECK}`);
		expect(existsSync(join(harness.cwd, "done.txt"))).toBe(true);

		const first = firstCalls();
		expect(first.map((call) => call.stage)).toEqual(["work", "work-2", "work-3"]);
		for (const call of first) {
			// A fresh transcript: its own prompt only, nothing an earlier iteration said.
			expect(call.transcript[0]).toContain(PROMPT);
			expect(call.transcript.join("\n")).not.toContain("finished");
			expect(call.tools).not.toContain("submit_result");
		}
		const progressFile = join(harness.cwd, ".pi", "workflows", "runs", report.runId, "artifacts", "progress.md");
		expect(readFileSync(progressFile, "utf8")).toBe(notes(3));
		// The first iteration finds the file empty; the second is handed iteration 1's notes and told where to write.
		expect(first[0]?.lastMessage).toContain("It is empty");
		expect(first[0]?.lastMessage).not.toContain("Read these files");
		expect(first[1]?.lastMessage).toContain(`update ${progressFile} with your write or edit tools`);
		expect(first[1]?.lastMessage).toMatch(/Read these files before you answer:\n- \S+progress-after-1\.md/);
		const secondRead = harness.provider.calls.find((call) => call.stage === "work-2" && call.afterToolResult);
		expect(secondRead?.lastMessage).toBe(notes(1));
	});

	it("without a check, runs until the stage's structured verdict says done", async () => {
		plans = (iteration) => ({
			progress: notes(iteration),
			verdict:
				iteration === 3
					? { done: true, evidence: "all three parts are written" }
					: { done: false, evidence: `part ${iteration} of 3 written` },
		});
		const report = await harness.run(loopUntilDone, { prompt: PROMPT });
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({
			done: true,
			iterations: 3,
			progress: notes(3),
			evidence: "all three parts are written",
		});
		const first = firstCalls();
		expect(first.map((call) => call.stage)).toEqual(["work", "work-2", "work-3"]);
		expect(first[0]?.tools).toContain("submit_result");
		expect(first[0]?.lastMessage).toContain("submit your verdict");
	});

	it("stops at the iteration limit, blocked, with the notes and the check's output in its outputs", async () => {
		plans = (iteration) => ({ progress: notes(iteration) });
		const report = await harness.run(loopUntilDone, { prompt: PROMPT, check: CHECK, maxIterations: 2 });
		expect(report.status).toBe("blocked");
		expect(report.reason).toContain(`not done after 2 iterations: "${CHECK}" still fails (exit 1)`);
		expect(report.outputs).toMatchObject({ done: false, iterations: 2, progress: notes(2) });
		expect(String(report.outputs?.evidence)).toContain(`$ ${CHECK}`);
		expect(firstCalls()).toHaveLength(2);
	});

	it("stops blocked, no progress, when the notes and the check's output stay the same 3 times", async () => {
		// The stage never touches the progress file, and the check fails alike each time.
		plans = () => ({});
		const report = await harness.run(loopUntilDone, { prompt: PROMPT, check: CHECK });
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(/no progress/);
		expect(firstCalls()).toHaveLength(3);
	});

	it("refuses a check whose program does not exist, and bad inputs, before any model call", async () => {
		const missing = await harness.run(loopUntilDone, { prompt: PROMPT, check: "no-such-checker-xyz --all" });
		expect(missing.status).toBe("failed");
		expect(missing.reason ?? missing.errors.join("\n")).toContain(
			'check: verify command "no-such-checker-xyz --all"',
		);
		expect(missing.reason ?? missing.errors.join("\n")).toContain('"no-such-checker-xyz" was not found on PATH');
		expect(() => harness.run(loopUntilDone, { prompt: "" })).toThrow(/invalid inputs[\s\S]*prompt/);
		expect(() => harness.run(loopUntilDone, { prompt: PROMPT, maxIterations: 0 })).toThrow(
			/invalid inputs[\s\S]*maxIterations/,
		);
		const blank = await harness.run(loopUntilDone, { prompt: "   " });
		expect(blank.status).toBe("failed");
		expect(blank.reason).toContain("prompt: expected what to do");
		expect(harness.provider.calls).toEqual([]);
	});

	it("paused in iteration 3, a resume replays iterations 1 and 2 without a model call", async () => {
		plans = threeNotes;
		const reached = deferred();
		const release = deferred();
		hold = (request) => {
			if (request.stage !== "work-3") return undefined;
			reached.resolve();
			return release.promise;
		};
		const run = harness.start(loopUntilDone, { prompt: PROMPT, check: CHECK });
		await reached.promise;
		run.pause("a break");
		release.resolve();
		const paused = await run.done;
		expect(paused.status).toBe("paused");

		hold = undefined;
		harness.provider.calls.length = 0;
		const resumed = await harness.resume(loopUntilDone, run.runId).done;
		expect(resumed.status).toBe("completed");
		expect(resumed.outputs).toMatchObject({ done: true, iterations: 3, progress: notes(3) });
		expect(new Set(harness.provider.calls.map((call) => call.stage))).toEqual(new Set(["work-3"]));
		const replayed = resumed.stages.filter((stage) => stage.replayed).map((stage) => stage.id);
		expect(replayed).toEqual(expect.arrayContaining(["work", "work-2"]));
	});
});
