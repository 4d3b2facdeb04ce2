// The journal of a run in a file: the header is written and synced at creation, events are appended one per
// line. Every append reaches the operating system at once (a killed process loses nothing written); the disk
// is synced by group commit: a durable event is synced within GROUP_COMMIT_MS, together with whatever
// followed it, and `sync()` forces it now (before a side effect runs, and when the journal closes). So a
// power loss can take at most the last few milliseconds of events, never a side effect's start.

import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import type { JournalEvent, JournalHeader } from "./events.js";
import type { JournalContents } from "./journal-text.js";
import { headerLine, parseJournal } from "./journal-text.js";

/** How long a durable event may wait for the disk, so that events close together share one sync. */
export const GROUP_COMMIT_MS = 5;

export class FileJournal {
	private fd: number | undefined;
	private dirty = false;
	private timer: ReturnType<typeof setTimeout> | undefined;
	/** Told when a sync that no caller waits for fails (the group commit timer's). */
	onSyncError: (error: unknown) => void = () => undefined;

	private constructor(
		readonly path: string,
		readonly header: JournalHeader,
		fd: number,
	) {
		this.fd = fd;
	}

	/** Creates a new journal file; fails when one exists (a run is never overwritten). */
	static create(path: string, header: Omit<JournalHeader, "type" | "version">): FileJournal {
		const fd = openSync(path, "wx");
		const line = headerLine(header);
		writeSync(fd, `${JSON.stringify(line)}\n`);
		fsyncSync(fd);
		return new FileJournal(path, line, fd);
	}

	/** Opens an existing journal for appending, after checking it can be read. A torn last line is closed off
	 * with a newline first, so the next event never fuses with it. */
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
		this.dirty = true;
		if (options?.durable && !this.timer) {
			this.timer = setTimeout(() => {
				try {
					this.sync();
				} catch (error) {
					this.onSyncError(error);
				}
			}, GROUP_COMMIT_MS);
			this.timer.unref?.();
		}
	}

	/** Syncs everything appended so far to the disk now. */
	sync(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
		if (this.fd === undefined || !this.dirty) return;
		fsyncSync(this.fd);
		this.dirty = false;
	}

	close(): void {
		if (this.fd === undefined) return;
		this.sync();
		closeSync(this.fd);
		this.fd = undefined;
	}
}

export function readJournalFile(path: string): JournalContents {
	return parseJournal(readFileSync(path, "utf8"), path);
}
