// Pause, cancel, steer and answer a run wherever it is: driven by this process (a direct call), owned by
// another live process (a request through the run's mailbox, answered by the owner), or owned by no
// one (interrupted or paused: the change is journaled here, under the run's lock).

import { existsSync } from "node:fs";
import type { JournalEvent, RunFinishedEvent, RunPausedEvent } from "../journal/events.js";
import { FileJournal, readJournalFile } from "../journal/journal.js";
import { buildReport, type RunReport, writeReport } from "../journal/report.js";
import { listArtifacts, runPaths } from "../journal/run-directory.js";
import { acquireRunLock, describeOwner, inspectLock } from "../journal/run-lock.js";
import { type ControlRequest, sendControlRequest } from "../journal/run-mailbox.js";
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

/** Nobody drives the run: pause or cancel it by journaling the change under its lock. */
function controlUnowned(cwd: string, runId: string, request: ControlRequest): string {
	const paths = runPaths(cwd, runId);
	const contents = readJournalFile(paths.journal);
	const status = buildReport(contents, paths.runDir).status;
	if (request.type === "answer") return answerUnowned(cwd, runId, request, contents.events);
	if (request.type === "steer") {
		throw new Error(
			`Run ${runId} is ${status === "running" ? "interrupted" : status}: no stage is running, so nothing was sent. ` +
				"Resume it with a message instead (/workflow resume <run> <message>).",
		);
	}
	if (request.type === "pause" && (status === "paused" || status === "awaiting_input")) {
		return `Run ${runId} is already ${status === "paused" ? "paused" : "stopped, awaiting input"}.`;
	}
	// A failed or blocked run may still be cancelled (so it is never resumed); a pause needs a live run.
	const open = request.type === "pause" ? ["running"] : ["running", "paused", "awaiting_input", "failed", "blocked"];
	if (!open.includes(status)) throw new Error(`Run ${runId} has already ended (${status}); nothing was changed.`);
	const at = new Date().toISOString();
	const event: RunPausedEvent | RunFinishedEvent =
		request.type === "pause"
			? { type: "run_paused", at, reason: request.reason ?? "paused by the user" }
			: { type: "run_finished", at, status: "cancelled", reason: request.reason ?? "cancelled by the user" };
	return `Run ${runId} ${appendUnderLock(cwd, runId, event).status}.`;
}

/** Answers a question of a run nobody drives: the answer is journaled; the next resume replays it. */
function answerUnowned(
	cwd: string,
	runId: string,
	request: Extract<ControlRequest, { type: "answer" }>,
	events: readonly JournalEvent[],
): string {
	const prompt = findPending(runId, pendingInJournal(events), request.promptId);
	const parsed = parseAnswer(prompt, request.value);
	if (!parsed.ok) throw new Error(`Run ${runId}, prompt "${prompt.id}": ${parsed.error}; it is still waiting.`);
	appendUnderLock(cwd, runId, {
		type: "prompt_answered",
		at: new Date().toISOString(),
		stageId: prompt.id,
		answer: parsed.value,
	});
	return `Answered prompt "${prompt.id}" of run ${runId}: ${JSON.stringify(parsed.value)}.`;
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

function appendUnderLock(cwd: string, runId: string, event: JournalEvent): RunReport {
	const paths = runPaths(cwd, runId);
	const lock = acquireRunLock(paths.runDir);
	if (!lock.ok) throw new Error(`Run ${runId}: ${lock.error}`);
	try {
		const journal = FileJournal.open(paths.journal);
		journal.append(event, { durable: true });
		journal.close();
		const report = buildReport(readJournalFile(paths.journal), paths.runDir, listArtifacts(paths));
		writeReport(paths, report);
		return report;
	} finally {
		lock.lock.release();
	}
}
