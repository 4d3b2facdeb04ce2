// Pause, cancel, steer and answer a run wherever it is: driven by this process (a direct call), owned by
// another live process (a request through the run's mailbox, answered by the owner), or owned by no
// one (interrupted or paused: the change is journaled here, under the run's lock).

import { existsSync } from "node:fs";
import type { JournalEvent, RunStatus } from "../store/events.js";
import { FileJournal, type JournalContents, readJournalFile } from "../store/journal.js";
import { buildReport, type RunReport, writeReport } from "../store/report.js";
import { listArtifacts, runPaths } from "../store/run-directory.js";
import { acquireRunLock, describeOwner, inspectLock } from "../store/run-lock.js";
import { type ControlRequest, sendControlRequest } from "../store/run-mailbox.js";
import { parseAnswer } from "./prompt-answer.js";
import { findPending, type PendingPrompt } from "./prompt-call.js";
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
	if (request.type === "answer") return run.answer(request.promptId, request.value);
	if (request.type === "steer") {
		await run.steer(request.stageId, request.message);
		return `Delivered to stage "${request.stageId}" of run ${run.runId}.`;
	}
	if (request.type === "pause") run.pause(request.reason);
	else run.cancel(request.reason);
	return `Run ${run.runId} ${(await run.done).status}.`;
}

/** Nobody drives the run: the change is journaled under its lock, checked against the journal as it
 * is once the lock is held (so a process resuming the run meanwhile is never overridden). */
function controlUnowned(cwd: string, runId: string, request: ControlRequest): string {
	let said = "";
	const report = journalUnderLock(cwd, runId, (contents, status): JournalEvent | undefined => {
		const at = new Date().toISOString();
		if (request.type === "answer") {
			const prompt = findPending(runId, pendingInJournal(contents.events), request.promptId);
			const parsed = parseAnswer(prompt, request.value);
			if (!parsed.ok) throw new Error(`Run ${runId}, prompt "${prompt.id}": ${parsed.error}; it is still waiting.`);
			said = `Answered prompt "${prompt.id}" of run ${runId}: ${JSON.stringify(parsed.value)}.`;
			return { type: "prompt_answered", at, stageId: prompt.id, answer: parsed.value };
		}
		if (request.type === "steer") {
			throw new Error(
				`Run ${runId} is ${status === "running" ? "interrupted" : status}: no stage is running, so nothing was sent. ` +
					"Resume it with a message instead (/workflow resume <run> <message>).",
			);
		}
		if (request.type === "pause" && (status === "paused" || status === "awaiting_input")) {
			said = `Run ${runId} is already ${status === "paused" ? "paused" : "stopped, awaiting input"}.`;
			return undefined;
		}
		// A failed or blocked run may still be cancelled (so it is never resumed); a pause needs a live run.
		const open =
			request.type === "pause" ? ["running"] : ["running", "paused", "awaiting_input", "failed", "blocked"];
		if (!open.includes(status)) throw new Error(`Run ${runId} has already ended (${status}); nothing was changed.`);
		return request.type === "pause"
			? { type: "run_paused", at, reason: request.reason ?? "paused by the user" }
			: { type: "run_finished", at, status: "cancelled", reason: request.reason ?? "cancelled by the user" };
	});
	return said || `Run ${runId} ${report?.status}.`;
}

/** Takes the run's lock, lets `decide` read the journal and name the event to add (or none, or throw),
 * appends it and rewrites the report. Returns the new report, or undefined when nothing was added. */
function journalUnderLock(
	cwd: string,
	runId: string,
	decide: (contents: JournalContents, status: RunStatus) => JournalEvent | undefined,
): RunReport | undefined {
	const paths = runPaths(cwd, runId);
	const lock = acquireRunLock(paths.runDir);
	if (!lock.ok) throw new Error(`Run ${runId}: ${lock.error}`);
	try {
		const contents = readJournalFile(paths.journal);
		const event = decide(contents, buildReport(contents, paths.runDir).status);
		if (!event) return undefined;
		const journal = FileJournal.open(paths.journal);
		journal.append(event, { durable: true });
		journal.close();
		const report = buildReport(
			{ ...contents, events: [...contents.events, event] },
			paths.runDir,
			listArtifacts(paths),
		);
		writeReport(paths, report);
		return report;
	} finally {
		lock.lock.release();
	}
}

/** Questions journaled as pending and not answered since, as the board would hold them. */
export function pendingInJournal(events: readonly JournalEvent[]): PendingPrompt[] {
	const pending = new Map<string, PendingPrompt>();
	for (const event of events) {
		if (event.type === "prompt_pending") {
			const {
				type: _type,
				at: _at,
				stageId,
				key: _key,
				parents: _parents,
				fingerprint: _fingerprint,
				...question
			} = event;
			pending.set(stageId, { id: stageId, ...question });
		}
		if (event.type === "prompt_answered") pending.delete(event.stageId);
	}
	return [...pending.values()];
}
