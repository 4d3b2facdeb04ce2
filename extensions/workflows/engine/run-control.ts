// Pause, cancel and steer a run wherever it is: driven by this process (a direct call), owned by
// another live process (a request through the run's mailbox, answered by the owner), or owned by no
// one (interrupted or paused: the change is journaled here, under the run's lock).

import { existsSync } from "node:fs";
import type { RunFinishedEvent, RunPausedEvent } from "../journal/events.js";
import { FileJournal, readJournalFile } from "../journal/journal.js";
import { buildReport, writeReport } from "../journal/report.js";
import { listArtifacts, runPaths } from "../journal/run-directory.js";
import { acquireRunLock, describeOwner, inspectLock } from "../journal/run-lock.js";
import { type ControlRequest, sendControlRequest } from "../journal/run-mailbox.js";
import type { WorkflowRun } from "./run-driver.js";

/** Applies a control request and says what happened; throws when the run cannot take it. */
export async function controlRun(
	cwd: string,
	runId: string,
	request: ControlRequest,
	live?: WorkflowRun,
): Promise<string> {
	if (live) return controlLive(live, request);
	const paths = runPaths(cwd, runId);
	if (!existsSync(paths.journal)) throw new Error(`Run ${runId} has no journal at ${paths.journal}`);
	const lock = inspectLock(paths.runDir);
	if (lock.state === "owned") {
		const reply = await sendControlRequest(paths.runDir, request);
		if (!reply.ok) throw new Error(`Run ${runId} (${describeOwner(lock.owner)}): ${reply.message}`);
		return reply.message;
	}
	return controlUnowned(cwd, runId, request);
}

async function controlLive(run: WorkflowRun, request: ControlRequest): Promise<string> {
	if (request.type === "steer") {
		await run.steer(request.stageId, request.message);
		return `Delivered to stage "${request.stageId}" of run ${run.runId}.`;
	}
	if (request.type === "pause") run.pause(request.reason);
	else run.cancel(request.reason);
	return `Run ${run.runId} ${(await run.done).status}.`;
}

/** Nobody drives the run: pause or cancel it by journaling the change under its lock. */
function controlUnowned(cwd: string, runId: string, request: ControlRequest): string {
	const paths = runPaths(cwd, runId);
	const status = buildReport(readJournalFile(paths.journal), paths.runDir).status;
	if (request.type === "steer") {
		throw new Error(
			`Run ${runId} is ${status === "running" ? "interrupted" : status}: no stage is running, so nothing was sent. ` +
				"Resume it with a message instead (/workflow resume <run> <message>).",
		);
	}
	if (request.type === "pause" && status === "paused") return `Run ${runId} is already paused.`;
	// A failed or blocked run may still be cancelled (so it is never resumed); a pause needs a live run.
	const open = request.type === "pause" ? ["running"] : ["running", "paused", "failed", "blocked"];
	if (!open.includes(status)) throw new Error(`Run ${runId} has already ended (${status}); nothing was changed.`);
	const lock = acquireRunLock(paths.runDir);
	if (!lock.ok) throw new Error(`Run ${runId}: ${lock.error}`);
	try {
		const journal = FileJournal.open(paths.journal);
		const at = new Date().toISOString();
		const event: RunPausedEvent | RunFinishedEvent =
			request.type === "pause"
				? { type: "run_paused", at, reason: request.reason ?? "paused by the user" }
				: { type: "run_finished", at, status: "cancelled", reason: request.reason ?? "cancelled by the user" };
		journal.append(event, { durable: true });
		journal.close();
		const report = buildReport(readJournalFile(paths.journal), paths.runDir, listArtifacts(paths));
		writeReport(paths, report);
		return `Run ${runId} ${report.status}.`;
	} finally {
		lock.lock.release();
	}
}
