// Reading a journal's text: the header first (a missing one, or one from a newer version, is refused with a
// message that says what to do), then one event per line; a torn or garbage line is skipped and said in a
// warning, and version 1 events are migrated to version 2 as they are read.

import { JOURNAL_VERSION, type JournalEvent, type JournalHeader } from "./events.js";
import { migrateEvent } from "./legacy-events.js";

export interface JournalContents {
	header: JournalHeader;
	events: JournalEvent[];
	/** Lines that could not be read (torn writes, garbage), said in words. */
	warnings: string[];
}

export function parseJournal(text: string, source: string): JournalContents {
	const lines = text.split("\n");
	if (lines.at(-1) === "") lines.pop();
	const warnings: string[] = [];
	const parsed: unknown[] = [];
	lines.forEach((line, index) => {
		try {
			parsed.push(JSON.parse(line));
		} catch {
			const where = index === lines.length - 1 ? "last line (torn write?)" : `line ${index + 1}`;
			warnings.push(`${source}: skipped unreadable ${where}: ${JSON.stringify(line.slice(0, 60))}`);
		}
	});
	const header = parsed[0] as Partial<JournalHeader> | undefined;
	if (header?.type !== "header" || typeof header.version !== "number") {
		throw new Error(
			`${source} is not a workflow journal: expected a header line first, got ${JSON.stringify(lines[0]?.slice(0, 60) ?? "")}`,
		);
	}
	if (header.version > JOURNAL_VERSION) {
		throw new Error(
			`${source} was written by a newer pi-workflows (journal version ${header.version}; this one reads up to ${JOURNAL_VERSION}). Update pi-workflows to open this run.`,
		);
	}
	const events: JournalEvent[] = [];
	for (const [index, event] of parsed.slice(1).entries()) {
		if (typeof event === "object" && event !== null && typeof (event as { type?: unknown }).type === "string") {
			events.push(migrateEvent(event as { type: string }));
		} else {
			warnings.push(
				`${source}: skipped event ${index + 1}, which is not an event: ${JSON.stringify(event).slice(0, 60)}`,
			);
		}
	}
	return { header: header as JournalHeader, events, warnings };
}

export function headerLine(header: Omit<JournalHeader, "type" | "version">): JournalHeader {
	return { type: "header", version: JOURNAL_VERSION, ...header };
}
