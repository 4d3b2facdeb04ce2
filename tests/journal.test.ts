// The journal file: versioned header, append-only events, tolerant reading, report rebuilt from it.

import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileJournal, readJournalFile } from "../extensions/workflows/store/file-journal.js";
import { parseJournal } from "../extensions/workflows/store/journal-text.js";
import { buildReport } from "../extensions/workflows/store/report.js";
import { RunFold } from "../extensions/workflows/store/run-fold.js";

describe("FileJournal", () => {
	let dir: string;
	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), "pi-workflows-journal-"));
	});
	afterEach(() => rmSync(dir, { recursive: true, force: true }));

	const header = { runId: "abc12345", workflow: "demo", createdAt: "2026-01-01T00:00:00.000Z" };
	const started = { type: "run_started", at: "2026-01-01T00:00:01.000Z", inputs: { a: 1 }, cwd: "/p" } as const;

	it("writes a versioned header and appends events in order", () => {
		const path = join(dir, "journal.jsonl");
		const journal = FileJournal.create(path, header);
		journal.append(started, { durable: true });
		journal.append({ type: "run_finished", at: "2026-01-01T00:00:02.000Z", status: "completed", outputs: {} });
		journal.close();
		const contents = readJournalFile(path);
		expect(contents.header).toEqual({ type: "header", version: 2, ...header });
		expect(contents.events.map((event) => event.type)).toEqual(["run_started", "run_finished"]);
		expect(contents.warnings).toEqual([]);
	});

	it("never overwrites an existing journal", () => {
		const path = join(dir, "journal.jsonl");
		FileJournal.create(path, header).close();
		expect(() => FileJournal.create(path, header)).toThrow(/EEXIST/);
	});

	it("skips a torn last line with a warning and keeps everything before it", () => {
		const path = join(dir, "journal.jsonl");
		const journal = FileJournal.create(path, header);
		journal.append(started);
		journal.close();
		appendFileSync(path, '{"type":"node_started","at":"2026-01-01T00:00');
		const contents = readJournalFile(path);
		expect(contents.events).toEqual([started]);
		expect(contents.warnings).toHaveLength(1);
		expect(contents.warnings[0]).toContain("last line (torn write?)");
		// The report still builds from what was readable.
		expect(buildReport(RunFold.of(contents), dir).inputs).toEqual({ a: 1 });
	});

	it("refuses a journal from a newer version instead of misreading it", () => {
		const path = join(dir, "journal.jsonl");
		writeFileSync(path, `${JSON.stringify({ type: "header", version: 99, ...header })}\n`);
		expect(() => readJournalFile(path)).toThrow(/newer pi-workflows \(journal version 99; this one reads up to 2\)/);
	});

	it("refuses a file that is not a journal", () => {
		const path = join(dir, "notes.jsonl");
		writeFileSync(path, "hello\n");
		expect(() => readJournalFile(path)).toThrow(/is not a workflow journal: expected a header line first/);
	});

	it("reads text with the same rules wherever it comes from", () => {
		const text = `${JSON.stringify({ type: "header", version: 2, ...header })}\n${JSON.stringify(started)}\n[]\n`;
		const contents = parseJournal(text, "memory");
		expect(contents.events).toEqual([started]);
		expect(contents.warnings).toEqual(["memory: skipped event 2, which is not an event: []"]);
	});
});
