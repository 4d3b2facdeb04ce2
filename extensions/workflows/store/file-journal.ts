// The journal of a run in a file: the header is written and synced at creation, events are appended one per
// line. A durable event (a node's start or end, the run's own events) reaches the operating system at once, so
// a killed process loses nothing that mattered; the disk is synced by group commit: within GROUP_COMMIT_MS of
// a durable event, together with whatever came with it, off the main thread. `sync()` forces it now (before a
// side effect runs, and when the journal closes). So a power loss can take at most the last few milliseconds of
// events, never a side effect's start. Events that need no durability (a replay note, a warning) are written
// with the next durable one or by the group commit timer.

import { closeSync, fsync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import type { JournalEvent, JournalHeader } from "./events.js";
import type { JournalContents } from "./journal-text.js";
import { headerLine, parseJournal } from "./journal-text.js";

/** How long a durable event may wait for the disk, so that events close together share one sync. */
export const GROUP_COMMIT_MS = 5;

export class FileJournal {
	private fd: number | undefined;
	/** Events that need not survive a crash (a replay note, a warning), written with the next one that must. */
	private pending = "";
	/** Written since the last sync. */
	private dirty = false;
	/** A durable event waits for the group commit. */
	private syncWanted = false;
	private timer: ReturnType<typeof setTimeout> | undefined;
	/** Told when a write or sync that no caller waits for fails (the group commit timer's). */
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

	/** Appends one event. A durable one reaches the operating system now (with any events before it) and the
	 * disk within GROUP_COMMIT_MS; any other reaches the operating system within GROUP_COMMIT_MS. */
	append(event: JournalEvent, options?: { durable?: boolean }): void {
		if (this.fd === undefined) throw new Error(`Journal ${this.path} is closed`);
		const line = `${JSON.stringify(event)}\n`;
		if (options?.durable) {
			this.write(this.pending + line);
			this.pending = "";
			this.syncWanted = true;
		} else {
			this.pending += line;
		}
		if (!this.timer) {
			this.timer = setTimeout(() => this.groupCommit(), GROUP_COMMIT_MS);
			this.timer.unref?.();
		}
	}

	/** Writes and syncs everything appended so far, now. */
	sync(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
		if (this.fd === undefined) return;
		if (this.pending) {
			this.write(this.pending);
			this.pending = "";
		}
		this.syncWanted = false;
		if (!this.dirty) return;
		fsyncSync(this.fd);
		this.dirty = false;
	}

	close(): void {
		if (this.fd === undefined) return;
		this.sync();
		closeSync(this.fd);
		this.fd = undefined;
	}

	private write(text: string): void {
		writeSync(this.fd as number, text);
		this.dirty = true;
	}

	/** The group commit: what waited is written, and the thread pool syncs it while the run goes on. */
	private groupCommit(): void {
		this.timer = undefined;
		const fd = this.fd;
		if (fd === undefined) return;
		try {
			if (this.pending) {
				this.write(this.pending);
				this.pending = "";
			}
		} catch (error) {
			this.onSyncError(error);
			return;
		}
		if (!this.syncWanted) return;
		this.syncWanted = false;
		this.dirty = false;
		fsync(fd, (error) => {
			// After close the descriptor is gone, and close synced everything itself.
			if (error && this.fd === fd) {
				this.dirty = true;
				this.onSyncError(error);
			}
		});
	}
}

export function readJournalFile(path: string): JournalContents {
	return parseJournal(readFileSync(path, "utf8"), path);
}
