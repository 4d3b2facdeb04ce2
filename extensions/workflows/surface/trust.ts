// Trust for project workflow files: they are code from the repository, so one runs only once the user
// has trusted that exact content (remembered by hash under the agent dir), or, headless, when the
// `--trust-workflows` flag or PI_WORKFLOWS_TRUST=1 allows project workflows for this process.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeAtomically } from "../store/atomic-write.js";

export interface TrustStore {
	isTrusted(file: string): boolean;
	remember(file: string): void;
}

export function contentHash(file: string): string {
	return createHash("sha256").update(readFileSync(file)).digest("hex");
}

type TrustEntries = Record<string, { file: string; trustedAt: string }>;

/** Trusted hashes in `<agentDir>/pi-workflows/trusted.json`. A file that is not valid JSON trusts nothing and
 * is never written over (that would drop every entry in it): remembering refuses, saying which file to fix. */
export function createTrustStore(agentDir: string): TrustStore {
	const path = join(agentDir, "pi-workflows", "trusted.json");
	const read = (): { ok: true; entries: TrustEntries } | { ok: false; error: string } => {
		if (!existsSync(path)) return { ok: true, entries: {} };
		try {
			const entries = JSON.parse(readFileSync(path, "utf8")) as unknown;
			if (typeof entries === "object" && entries !== null && !Array.isArray(entries)) {
				return { ok: true, entries: entries as TrustEntries };
			}
			return {
				ok: false,
				error: `expected an object of trusted hashes, got ${JSON.stringify(entries).slice(0, 40)}`,
			};
		} catch (error) {
			return { ok: false, error: error instanceof Error ? error.message : String(error) };
		}
	};
	return {
		isTrusted: (file) => {
			const current = read();
			return current.ok && contentHash(file) in current.entries;
		},
		remember: (file) => {
			const current = read();
			if (!current.ok) {
				throw new Error(
					`The trust file ${path} cannot be read (${current.error}); it was left as it is. Fix or delete it, then trust the workflow again.`,
				);
			}
			const entries = current.entries;
			entries[contentHash(file)] = { file, trustedAt: new Date().toISOString() };
			mkdirSync(dirname(path), { recursive: true });
			writeAtomically(path, `${JSON.stringify(entries, null, "\t")}\n`);
		},
	};
}

export function trustFromEnvironment(flag: boolean | string | undefined): boolean {
	return flag === true || flag === "true" || process.env.PI_WORKFLOWS_TRUST === "1";
}
