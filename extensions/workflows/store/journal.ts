// The append-only run journal behind a small interface: a file-backed store (fsync at stage boundaries)
// and an in-memory one for tests. Reading tolerates a torn or garbage line and refuses future versions.

import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { JOURNAL_VERSION, type JournalEvent, type JournalHeader } from "./events.js";

export interface JournalStore {
	/** Appends one event; `durable` forces it to disk before returning. */
	append(event: JournalEvent, options?: { durable?: boolean }): void;
	/** Reads the header and events written so far. */
	read(): JournalContents;
	close(): void;
}

export interface JournalContents {
	header: JournalHeader;
	events: JournalEvent[];
	/** Lines that could not be read (torn writes, garbage), said in words. */
	warnings: string[];
}

/** Journal in a file: the header is written and synced at creation; later lines are appended. */
export class FileJournal implements JournalStore {
	private fd: number | undefined;

	private constructor(
		readonly path: string,
		/** The header line this journal starts with. */
		readonly header: JournalHeader,
		fd: number,
	) {
		this.fd = fd;
	}

	/** Creates a new journal file; fails when one exists (a run is never overwritten). */
	static create(path: string, header: Omit<JournalHeader, "type" | "version">): FileJournal {
		const fd = openSync(path, "wx");
		const line: JournalHeader = { type: "header", version: JOURNAL_VERSION, ...header };
		writeSync(fd, `${JSON.stringify(line)}\n`);
		fsyncSync(fd);
		return new FileJournal(path, line, fd);
	}

	/** Opens an existing journal for appending, after checking it can be read. A torn last line is
	 * closed off with a newline first, so the next event never fuses with it. */
	static open(path: string): FileJournal {
		const text = readFileSync(path, "utf8");
		const { header } = parseJournal(text, path);
		const fd = openSync(path, "a");
		if (text.length > 0 && !text.endsWith("\n")) writeSync(fd, "\n");
		return new FileJournal(path, header, fd);
	}

	append(event: JournalEvent, options?: { durable?: boolean }): void {
		if (this.fd === undefined) throw new Error(`Journal ${this.path} is closed`);
		writeSync(this.fd, `${JSON.stringify(event)}\n`);
		if (options?.durable) fsyncSync(this.fd);
	}

	read(): JournalContents {
		return readJournalFile(this.path);
	}

	close(): void {
		if (this.fd === undefined) return;
		fsyncSync(this.fd);
		closeSync(this.fd);
		this.fd = undefined;
	}
}

/** Journal held in memory, for tests and dry runs. */
export class InMemoryJournal implements JournalStore {
	private readonly lines: string[];

	constructor(header: Omit<JournalHeader, "type" | "version">) {
		this.lines = [JSON.stringify({ type: "header", version: JOURNAL_VERSION, ...header })];
	}

	append(event: JournalEvent): void {
		this.lines.push(JSON.stringify(event));
	}

	read(): JournalContents {
		return parseJournal(this.lines.join("\n"), "memory");
	}

	close(): void {}
}

export function readJournalFile(path: string): JournalContents {
	return parseJournal(readFileSync(path, "utf8"), path);
}

/** Parses journal text. Unreadable lines are skipped with a warning; a missing or newer header throws. */
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
	const events = parsed.slice(1).filter((event): event is JournalEvent => {
		const ok = typeof event === "object" && event !== null && typeof (event as { type?: unknown }).type === "string";
		if (!ok) warnings.push(`${source}: skipped a line that is not an event`);
		return ok;
	});
	return { header: header as JournalHeader, events, warnings };
}
