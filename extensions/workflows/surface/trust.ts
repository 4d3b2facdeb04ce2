// Trust for project workflow files: they are code from the repository, so one runs only once the user
// has trusted that exact content (remembered by hash under the agent dir), or, headless, when the
// `--trust-workflows` flag or PI_WORKFLOWS_TRUST=1 allows project workflows for this process.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface TrustStore {
	isTrusted(file: string): boolean;
	remember(file: string): void;
}

export function contentHash(file: string): string {
	return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Trusted hashes in `<agentDir>/pi-workflows/trusted.json`. */
export function createTrustStore(agentDir: string): TrustStore {
	const path = join(agentDir, "pi-workflows", "trusted.json");
	const read = (): Record<string, { file: string; trustedAt: string }> => {
		if (!existsSync(path)) return {};
		try {
			return JSON.parse(readFileSync(path, "utf8"));
		} catch {
			return {};
		}
	};
	return {
		isTrusted: (file) => contentHash(file) in read(),
		remember: (file) => {
			const entries = read();
			entries[contentHash(file)] = { file, trustedAt: new Date().toISOString() };
			mkdirSync(dirname(path), { recursive: true });
			writeFileSync(path, `${JSON.stringify(entries, null, "\t")}\n`);
		},
	};
}

export function trustFromEnvironment(flag: boolean | string | undefined): boolean {
	return flag === true || flag === "true" || process.env.PI_WORKFLOWS_TRUST === "1";
}
