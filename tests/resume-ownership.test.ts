// Who may resume a run, and what a resume refuses: a live owner keeps its run, a dead owner's lock is
// taken over, and bad runs (no journal, a newer journal, another workflow's run) change nothing on disk.

import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { resumableRuns } from "../extensions/workflows/engine/runs.js";
import { readJournalFile } from "../extensions/workflows/store/file-journal.js";
import { runPaths, runsRoot } from "../extensions/workflows/store/run-directory.js";
import { inspectLock, lockPath } from "../extensions/workflows/store/run-lock.js";
import { twoStages } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

/** Makes a finished run look like one whose process died during "second": journal cut, lock left. */
function crashDuringSecond(harness: Harness, runId: string, pid: number): void {
	const paths = runPaths(harness.cwd, runId);
	const lines = readFileSync(paths.journal, "utf8").trim().split("\n");
	const secondStarted = lines.findIndex((line) => line.includes('"node_started"') && line.includes('"second"'));
	writeFileSync(paths.journal, `${lines.slice(0, secondStarted + 1).join("\n")}\n`);
	const now = new Date().toISOString();
	writeFileSync(lockPath(paths.runDir), JSON.stringify({ pid, host: hostname(), acquiredAt: now, heartbeatAt: now }));
	// The process that died had listed the run as open when it started driving it.
	harness.store.markOpen(runId, true);
}

/** A pid that is not running. */
function deadPid(): number {
	let pid = 999_999;
	for (;;) {
		try {
			process.kill(pid, 0);
			pid--;
		} catch {
			return pid;
		}
	}
}

describe("run ownership", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	it("a run whose owner died shows as interrupted, is listed as resumable, and a resume takes it over", async () => {
		const first = await harness.run(twoStages, {});
		crashDuringSecond(harness, first.runId, deadPid());

		const shown = harness.view(first.runId).report;
		expect(shown.status).toBe("interrupted");
		expect(shown.stages.map((stage) => stage.status)).toEqual(["completed", "interrupted"]);
		expect(resumableRuns(harness.store).map((run) => run.runId)).toEqual([first.runId]);

		const resumed = await harness.resume(twoStages, first.runId).done;
		expect(resumed.status).toBe("completed");
		expect(existsSync(lockPath(runPaths(harness.cwd, first.runId).runDir))).toBe(false);
		expect(resumableRuns(harness.store)).toEqual([]);
	});

	it("a second resume of a run a live process owns is refused, naming the owner", async () => {
		const first = await harness.run(twoStages, {});
		crashDuringSecond(harness, first.runId, process.pid);
		const journal = readFileSync(runPaths(harness.cwd, first.runId).journal, "utf8");

		expect(harness.view(first.runId).report.status).toBe("running");
		expect(() => harness.resume(twoStages, first.runId)).toThrow(
			new RegExp(
				`^Workflow "two-stages", run ${first.runId} cannot be resumed: the run is owned by process ${process.pid} on `,
			),
		);
		expect(readFileSync(runPaths(harness.cwd, first.runId).journal, "utf8")).toBe(journal);
		expect(inspectLock(runPaths(harness.cwd, first.runId).runDir).state).toBe("owned");
	});

	it("a live run in this process holds its lock until it ends", async () => {
		let release: () => void = () => undefined;
		const held = new Promise<void>((resolve) => {
			release = resolve;
		});
		harness.cleanup();
		harness = await createHarness(async () => {
			await held;
			return "done";
		});
		const run = harness.start(twoStages, {});
		expect(() => harness.resume(twoStages, run.runId)).toThrow(/is owned by process/);
		release();
		expect((await run.done).status).toBe("completed");
		expect(inspectLock(run.paths.runDir).state).toBe("free");
	});

	it("resumes after a torn last line, which is skipped with a warning", async () => {
		const first = await harness.run(twoStages, {});
		crashDuringSecond(harness, first.runId, deadPid());
		const journal = runPaths(harness.cwd, first.runId).journal;
		appendFileSync(journal, '{"type":"node_fini');

		const resumed = await harness.resume(twoStages, first.runId).done;

		expect(resumed.status).toBe("completed");
		const contents = readJournalFile(journal);
		expect(contents.warnings).toEqual([expect.stringMatching(/skipped unreadable line \d+/)]);
		expect(contents.events.at(-1)?.type).toBe("run_finished");
	});
});

describe("resume refuses bad runs and changes nothing", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	it("a run directory without a journal", () => {
		expect(() => harness.resume(twoStages, "nosuchrun")).toThrow(
			/^Workflow "two-stages", run nosuchrun: no journal at .*nosuchrun\/journal\.jsonl; nothing to resume\.$/,
		);
		expect(existsSync(runsRoot(harness.cwd))).toBe(false);
	});

	it("a journal written by a newer version", async () => {
		const first = await harness.run(twoStages, {});
		crashDuringSecond(harness, first.runId, deadPid());
		const paths = runPaths(harness.cwd, first.runId);
		const [header, ...rest] = readFileSync(paths.journal, "utf8").split("\n");
		writeFileSync(paths.journal, [header?.replace('"version":2', '"version":7'), ...rest].join("\n"));
		const before = readFileSync(paths.journal, "utf8");
		const files = readdirSync(paths.runDir).sort();

		expect(() => harness.resume(twoStages, first.runId)).toThrow(
			/was written by a newer pi-workflows \(journal version 7; this one reads up to 2\)/,
		);
		expect(readFileSync(paths.journal, "utf8")).toBe(before);
		expect(readdirSync(paths.runDir).sort()).toEqual(files);
	});

	it("a run of another workflow", async () => {
		const first = await harness.run(twoStages, {});
		const other = workflow({ ...twoStages, name: "other" });
		expect(() => harness.resume(other, first.runId)).toThrow(
			`Workflow "other", run ${first.runId}: the run belongs to workflow "two-stages"; nothing was resumed.`,
		);
	});
});
