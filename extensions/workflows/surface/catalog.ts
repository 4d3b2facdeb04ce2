// The workflow catalog: builtins from the package, user workflows from `<agentDir>/workflows`,
// extra paths from settings (`"workflows": { "paths": [...] }`), and project workflows from
// `.pi/workflows`. Project files are listed by the name they declare (read without running them) and imported
// only when asked for (after the trust check). A file that fails to load, or repeats a name, is listed with its error.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { AnyWorkflowDefinition } from "../authoring/types.js";
import { loadWorkflowFile } from "./workflow-loader.js";
import { readWorkflowSource } from "./workflow-source.js";

export type WorkflowScope = "builtin" | "user" | "project";

export interface CatalogEntry {
	/** The definition's name once loaded; the file name before that. */
	name: string;
	file: string;
	scope: WorkflowScope;
	description?: string;
	definition?: AnyWorkflowDefinition;
	error?: string;
}

export interface CatalogOptions {
	cwd: string;
	agentDir: string;
	/** Folder of builtin workflows (default: the package's `workflows/`). */
	builtinDir?: string;
}

export const BUILTIN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "workflows");

export class WorkflowCatalog {
	private entries: CatalogEntry[] = [];

	constructor(private readonly options: CatalogOptions) {}

	list(): readonly CatalogEntry[] {
		return this.entries;
	}

	/** Rescans every source. Definitions of runs in flight are unaffected (they hold their own). */
	async reload(): Promise<void> {
		const { cwd, agentDir } = this.options;
		const settings = readWorkflowSettings(cwd, agentDir);
		const sources: Array<{ files: string[]; scope: WorkflowScope }> = [
			{ files: workflowFiles(this.options.builtinDir ?? BUILTIN_DIR), scope: "builtin" },
			{ files: workflowFiles(join(agentDir, "workflows")), scope: "user" },
			{ files: settings.user.flatMap(workflowFiles), scope: "user" },
			{ files: workflowFiles(join(cwd, ".pi", "workflows")), scope: "project" },
			{ files: settings.project.flatMap(workflowFiles), scope: "project" },
		];
		const entries: CatalogEntry[] = [];
		for (const { files, scope } of sources) {
			for (const file of files) {
				if (entries.some((entry) => entry.file === file)) continue;
				const entry: CatalogEntry = { name: basename(file, ".ts"), file, scope };
				if (scope !== "project") await loadInto(entry);
				else {
					// Not run until trusted: listed by the name it declares, with its syntax error if it has one.
					const seen = readWorkflowSource(file);
					entry.name = seen.name;
					if (seen.error) entry.error = seen.error;
				}
				entries.push(entry);
			}
		}
		markDuplicates(entries);
		this.entries = entries;
	}

	/** Imports a project entry on first use (call after the trust check). */
	async load(entry: CatalogEntry): Promise<CatalogEntry> {
		if (entry.definition || entry.error) return entry;
		await loadInto(entry);
		markDuplicates(this.entries);
		return entry;
	}

	find(name: string): CatalogEntry | undefined {
		// A shadowed builtin is listed with why; the name finds what shadows it.
		return (
			this.entries.find((entry) => entry.name === name && !entry.error?.startsWith("shadowed")) ??
			this.entries.find((entry) => entry.name === name) ??
			this.entries.find((entry) => basename(entry.file, ".ts") === name)
		);
	}
}

async function loadInto(entry: CatalogEntry): Promise<void> {
	const loaded = await loadWorkflowFile(entry.file);
	if (loaded.ok) {
		entry.definition = loaded.definition;
		entry.name = loaded.definition.name;
		entry.description = loaded.definition.description;
	} else {
		entry.error = loaded.error;
	}
}

/** How specific a source is: a project's workflow shadows a user's, a user's shadows a builtin of the same name. */
const SPECIFICITY: Record<WorkflowScope, number> = { builtin: 0, user: 1, project: 2 };

/** Names are unique: a more specific source shadows a less specific one (the shadowed entry says by what); two of
 * the same source are a duplicate (the later one says which file came first). */
function markDuplicates(entries: CatalogEntry[]): void {
	const seen = new Map<string, CatalogEntry>();
	for (const entry of entries) {
		if (entry.error) continue;
		const first = seen.get(entry.name);
		if (!first) {
			seen.set(entry.name, entry);
			continue;
		}
		if (SPECIFICITY[entry.scope] > SPECIFICITY[first.scope]) {
			first.error = `shadowed by the ${entry.scope} workflow "${entry.name}" in ${entry.file}`;
			first.definition = undefined;
			seen.set(entry.name, entry);
			continue;
		}
		entry.error = `duplicate workflow name "${entry.name}" (already defined in ${first.file})`;
		entry.definition = undefined;
	}
}

function workflowFiles(path: string): string[] {
	if (!existsSync(path)) return [];
	if (statSync(path).isFile()) return path.endsWith(".ts") ? [path] : [];
	return readdirSync(path)
		.filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts") && name !== "index.ts")
		.sort()
		.map((name) => join(path, name));
}

/** Extra workflow paths from Pi's settings files, key `workflows.paths` (user and project scope). */
function readWorkflowSettings(cwd: string, agentDir: string): { user: string[]; project: string[] } {
	const read = (file: string, base: string): string[] => {
		if (!existsSync(file)) return [];
		try {
			const paths = JSON.parse(readFileSync(file, "utf8"))?.workflows?.paths;
			if (!Array.isArray(paths)) return [];
			return paths
				.filter((p): p is string => typeof p === "string")
				.map((p) => (isAbsolute(p) ? p : resolve(base, p)));
		} catch {
			return [];
		}
	};
	return {
		user: read(join(agentDir, "settings.json"), agentDir),
		project: read(join(cwd, ".pi", "settings.json"), cwd),
	};
}
