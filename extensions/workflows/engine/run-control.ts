// Pause, cancel, steer and answer a run wherever it is: driven by this process (a direct call), owned by
// another live process (a request through the run's mailbox, answered by the owner), or owned by no
// one (interrupted or paused: the change is journaled here, under the run's lock).

import type { JournalEvent, RunStatus } from "../store/events.js";
import { buildReport, type RunReport, writeReport } from "../store/report.js";
import { listArtifacts } from "../store/run-directory.js";
import { RunFold } from "../store/run-fold.js";
import { describeOwner } from "../store/run-lock.js";
import type { ControlRequest, RunStore } from "../store/run-store.js";
import { findPending } from "./calls/prompt-board.js";
import { LeaseRelay } from "./lease-relay.js";
import { parseAnswer } from "./prompt-answer.js";
import { resumeHint, stopReply, type WorkflowRun } from "./run-driver.js";
import { staysOpen } from "./runs.js";
import { queuedReply, steerForLater } from "./steer-queue.js";

/** Applies a control request and says what happened; throws, changing nothing, when the run cannot take it. */
export async function controlRun(
	store: RunStore,
	runId: string,
	request: ControlRequest,
	live?: WorkflowRun,
): Promise<string> {
	if (live) return controlLive(live, request);
	if (!store.has(runId)) throw new Error(`Run ${runId} has no journal at ${store.paths(runId).journal}`);
	const owner = store.owner(runId);
	if (owner.state === "owned") {
		const reply = await store.send(runId, request);
		if (!reply.ok) throw new Error(`Run ${runId} (${describeOwner(owner.owner)}): ${reply.message}`);
		return reply.message;
	}
	return controlUnowned(store, runId, request);
}

async function controlLive(run: WorkflowRun, request: ControlRequest): Promise<string> {
	if (request.type === "answer") return run.answer(request.promptId, request.value);
	if (request.type === "steer") return run.steer(request.stageId, request.message);
	if (request.type === "pause") run.pause(request.reason);
	else run.cancel(request.reason);
	return stopReply(run.runId, request.type, run.done);
}

/** Nobody drives the run: the change is journaled under its lock, checked against the journal as it
 * is once the lock is held (so a process resuming the run meanwhile is never overridden). */
function controlUnowned(store: RunStore, runId: string, request: ControlRequest): string {
	let said = "";
	const report = journalUnderLock(store, runId, (fold, status): JournalEvent | undefined => {
		const at = new Date().toISOString();
		if (request.type === "answer") {
			const prompt = findPending(runId, fold.pending(), request.promptId);
			const parsed = parseAnswer(prompt, request.value);
			if (!parsed.ok) throw new Error(`Run ${runId}, prompt "${prompt.id}": ${parsed.error}; it is still waiting.`);
			said = `Answered prompt "${prompt.id}" of run ${runId}: ${JSON.stringify(parsed.value)}.`;
			return { type: "node_finished", at, stageId: prompt.id, status: "completed", result: parsed.value };
		}
		if (request.type === "steer") {
			if (status === "completed" || status === "skipped" || status === "cancelled") {
				throw new Error(`Run ${runId} has ended (${status}); nothing was sent.`);
			}
			// Kept in the journal: the stage gets it when it starts (or goes on) after a resume.
			const later = steerForLater(fold, runId, request.stageId, request.message);
			said = queuedReply(fold, runId, later);
			return later;
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
	if (said) return said;
	return `Run ${runId} ${report?.status}.${report?.status === "paused" ? ` ${resumeHint(runId)}` : ""}`;
}

/** Takes the run's lock, lets `decide` read the journal and name the event to add (or none, or throw),
 * appends it and rewrites the report. Returns the new report, or undefined when nothing was added. */
function journalUnderLock(
	store: RunStore,
	runId: string,
	decide: (fold: RunFold, status: RunStatus) => JournalEvent | undefined,
): RunReport | undefined {
	const opened = store.open(runId, new LeaseRelay());
	if (!opened.ok) throw new Error(`Run ${runId}: ${opened.error}`);
	const { paths, contents, journal, lease } = opened.run;
	try {
		const fold = RunFold.of(contents);
		const event = decide(fold, fold.status());
		if (!event) return undefined;
		journal.append(event, { durable: true });
		journal.close();
		fold.apply(event);
		const report = buildReport(fold, paths.runDir, listArtifacts(paths).files);
		writeReport(paths, report);
		store.markOpen(runId, staysOpen(report.status));
		return report;
	} finally {
		journal.close();
		lease.release();
	}
}
