// Imports a workflow file (TypeScript, through jiti) and checks its default export. Workflow files
// import `pi-workflows` and `typebox`, which the user's project usually lacks: they get the module
// instances this extension runs with, so `instanceof StageError` and schemas work as expected. Nothing is
// resolved from disk: Pi installs packages without their peers, so typebox is often not on disk at all.
// Files written for Atomic import `@bastani/workflows`: they get the same modules (see docs: migrating).

import { fileURLToPath } from "node:url";
import { createJiti } from "jiti";
import * as typebox from "typebox";
import * as typeboxCompile from "typebox/compile";
import * as typeboxValue from "typebox/value";
import * as authoring from "../authoring/index.js";
import type { AnyWorkflowDefinition } from "../authoring/types.js";
import { isWorkflowDefinition, withFileName } from "../authoring/workflow.js";

export type LoadResult = { ok: true; definition: AnyWorkflowDefinition } | { ok: false; error: string };

const BUILTIN_INDEX = fileURLToPath(new URL("../../../workflows/index.ts", import.meta.url));

let builtins: unknown;
/** The builtin workflows as a module, imported the first time a file asks for them (then kept). */
function builtinModule(): unknown {
	builtins ??= createLoader(BASE_MODULES)(BUILTIN_INDEX);
	return builtins;
}

/** The modules a workflow file may import without having them installed. */
const BASE_MODULES: Record<string, unknown> = {
	"pi-workflows": authoring,
	"@bastani/workflows": authoring,
	typebox,
	"typebox/compile": typeboxCompile,
	"typebox/value": typeboxValue,
};

const WORKFLOW_MODULES: Record<string, unknown> = Object.defineProperties(
	{ ...BASE_MODULES },
	Object.fromEntries(
		["pi-workflows/builtin", "@bastani/workflows/builtin"].map((name) => [
			name,
			{ enumerable: true, get: builtinModule },
		]),
	),
);

function createLoader(modules: Record<string, unknown>) {
	return createJiti(import.meta.url, { moduleCache: false, fsCache: false, virtualModules: modules });
}

export async function loadWorkflowFile(path: string): Promise<LoadResult> {
	let loaded: unknown;
	try {
		loaded = await createLoader(WORKFLOW_MODULES).import(path, { default: true });
	} catch (error) {
		return { ok: false, error: `could not load: ${loadError(error)}` };
	}
	if (!isWorkflowDefinition(loaded)) {
		const got = loaded === undefined ? "nothing" : typeof loaded;
		return {
			ok: false,
			error: `expected a default export made with workflow({...}) from "pi-workflows", got ${got}`,
		};
	}
	return withFileName(loaded, path);
}

/** A definition's problems are kept one per line; any other error (a syntax error, say) is cut to its start. */
function loadError(error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	const lines = message.split("\n");
	if (/is not a valid definition:$/.test(lines[0] ?? "")) return lines.slice(0, 21).join("\n").trim();
	return lines.slice(0, 3).join(" ").trim();
}
