// Imports a workflow file (TypeScript, through jiti) and checks its default export. Workflow files
// import `pi-workflows` and `typebox`, which the user's project usually lacks: they get the module
// instances this extension runs with, so `instanceof StageError` and schemas work as expected. Nothing is
// resolved from disk: Pi installs packages without their peers, so typebox is often not on disk at all.

import { createJiti } from "jiti";
import * as typebox from "typebox";
import * as typeboxCompile from "typebox/compile";
import * as typeboxValue from "typebox/value";
import * as authoring from "../authoring/index.js";
import type { AnyWorkflowDefinition } from "../authoring/types.js";
import { isWorkflowDefinition } from "../authoring/workflow.js";

export type LoadResult = { ok: true; definition: AnyWorkflowDefinition } | { ok: false; error: string };

/** The modules a workflow file may import without having them installed. */
const WORKFLOW_MODULES = {
	"pi-workflows": authoring,
	typebox,
	"typebox/compile": typeboxCompile,
	"typebox/value": typeboxValue,
};

function createLoader() {
	return createJiti(import.meta.url, { moduleCache: false, fsCache: false, virtualModules: WORKFLOW_MODULES });
}

export async function loadWorkflowFile(path: string): Promise<LoadResult> {
	let loaded: unknown;
	try {
		loaded = await createLoader().import(path, { default: true });
	} catch (error) {
		return { ok: false, error: `could not load: ${firstLine(error)}` };
	}
	if (!isWorkflowDefinition(loaded)) {
		const got = loaded === undefined ? "nothing" : typeof loaded;
		return {
			ok: false,
			error: `expected a default export made with workflow({...}) from "pi-workflows", got ${got}`,
		};
	}
	return { ok: true, definition: loaded };
}

function firstLine(error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	return message.split("\n").slice(0, 3).join(" ").trim();
}
