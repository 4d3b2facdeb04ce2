// What every bench of bench/ prints and writes: medians, aligned tables, and its figures as JSON under
// bench/results/ (named after the bench and the Pi version it ran on).

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function median(samples: readonly number[]): number {
	const sorted = [...samples].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1
		? (sorted[middle] as number)
		: ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The first column left-aligned, the others right-aligned. */
export function printTable(header: string[], rows: string[][]): void {
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
	const line = (cells: string[]) =>
		cells
			.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
			.join("  ");
	console.log(line(header));
	console.log(widths.map((width) => "-".repeat(width)).join("  "));
	for (const row of rows) console.log(line(row));
}

/** Writes `bench/results/<name>-<pi version>.json` and says where. */
export function writeResults(name: string, piVersion: string, results: unknown): void {
	const out = join(dirname(fileURLToPath(import.meta.url)), "results", `${name}-${piVersion}.json`);
	mkdirSync(dirname(out), { recursive: true });
	writeFileSync(out, `${JSON.stringify(results, null, "\t")}\n`);
	console.log(`\nwritten: ${out}`);
}
