// Messages to stages that have not started: queued durably in the journal (`node_queued`) and handed to the
// stage in its first prompt when it starts; a stage stopped mid-way gets them on resume (`node_steered`). The
// queue per stage is bounded. When the run ends for good with messages still queued, they are journaled as
// undeliverable (`node_undeliverable`) and reported, never dropped in silence.

import type { JournalEvent } from "../store/events.js";
import type { RunFold } from "../store/run-fold.js";

/** Messages one stage may have waiting before it starts. */
export const MAX_QUEUED_PER_STAGE = 10;

/** The event that keeps a message for a stage that is not running now; throws, changing nothing, when none can. */
export function steerForLater(fold: RunFold, runId: string, stageId: string, message: string): JournalEvent {
	const at = new Date().toISOString();
	if (typeof message !== "string" || message.trim() === "") {
		throw new Error(`Run ${runId}: the message for stage "${stageId}" is empty; nothing was sent.`);
	}
	const node = fold.node(stageId);
	if (node) {
		// Stopped while it ran: the message reaches it when the run resumes and the stage goes on.
		if (node.kind === "task" && (node.status === "running" || node.status === "interrupted")) {
			return { type: "node_steered", at, stageId, message };
		}
		throw new Error(
			`Run ${runId}: stage "${stageId}" has already ${node.status === "waiting" ? "asked its question" : `ended (${node.status})`}; nothing was sent.`,
		);
	}
	const waiting = fold.queued(stageId).length;
	if (waiting >= MAX_QUEUED_PER_STAGE) {
		throw new Error(
			`Run ${runId}: stage "${stageId}" has ${waiting} messages waiting already, the most it may have; nothing was sent.`,
		);
	}
	return { type: "node_queued", at, stageId, message };
}

/** What the sender is told about a message kept for later. */
export function queuedReply(fold: RunFold, runId: string, event: JournalEvent): string {
	if (event.type === "node_steered") {
		return `Run ${runId}: stage "${event.stageId}" is not running now; the message is kept and reaches it when the run resumes.`;
	}
	if (event.type !== "node_queued") return `Run ${runId}: kept.`;
	const started = [...fold.nodes()].filter((node) => node.kind === "task").map((node) => node.id);
	const known = started.length > 0 ? ` (stages started so far: ${started.slice(-10).join(", ")})` : "";
	return `Queued for stage "${event.stageId}" of run ${runId}, which has not started: it gets the message when it starts${known}. If it never starts, the message is reported undeliverable when the run ends.`;
}

/** The undeliverable events of a run that ended for good with messages still queued. */
export function undeliverable(fold: RunFold, why: string): JournalEvent[] {
	const at = new Date().toISOString();
	return [...fold.queuedStages()].map(([stageId, messages]) => ({
		type: "node_undeliverable" as const,
		at,
		stageId,
		messages: [...messages],
		reason: `stage "${stageId}" never started: ${why}`,
	}));
}
