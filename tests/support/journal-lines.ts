// Reads a run's journal from a test while another process may still be appending to it: the header is
// skipped and a line still being written is ignored. Events are kept loose (type, stage id, the rest).

import { existsSync, readFileSync } from "node:fs";

export interface JournalLine {
	type: string;
	stageId?: string;
	sessionFile?: string;
	status?: string;
	answer?: unknown;
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

/** `type stageId` (or just `type`), for comparing event sequences. */
export const label = (event: JournalLine) => (event.stageId ? `${event.type} ${event.stageId}` : event.type);
