// Reads a run's journal from a test while another process may still be appending to it: the header is
// skipped and a line still being written is ignored. Events are kept loose (type, stage id, the rest).

import { existsSync, readFileSync } from "node:fs";

export interface JournalLine {
	type: string;
	stageId?: string;
	kind?: string;
	sessionFile?: string;
	status?: string;
	result?: unknown;
}

export function journalEvents(path: string): JournalLine[] {
	if (!existsSync(path)) return [];
	const events: JournalLine[] = [];
	for (const line of readFileSync(path, "utf8").split("\n").slice(1)) {
		try {
			if (line.trim()) events.push(JSON.parse(line));
		} catch {
			// torn last line while the run appends
		}
	}
	return events;
}

/** Whether an event starts a question (a prompt node). */
export const isQuestionStart = (event: JournalLine) => event.type === "node_started" && event.kind === "prompt";

/** A short name of an event, for comparing event sequences: `started s1`, `completed s1` (a node's end is
 * named by its status), `replayed s1`, `steered s1`; run events by their type. */
export function label(event: JournalLine): string {
	if (!event.stageId) return event.type;
	const what = event.type === "node_finished" ? (event.status ?? "finished") : event.type.replace(/^node_/, "");
	return `${what} ${event.stageId}`;
}
