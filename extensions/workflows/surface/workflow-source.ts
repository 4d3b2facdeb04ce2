// What can be known of a project's workflow file without running it (it is not trusted yet): whether it parses,
// and the name it declares. The catalog lists project files by that name, so `/workflow run <declared name>` finds
// them, two files declaring one name are reported, and a file that does not parse shows its error in the list.
// Nothing is executed: the file is only transpiled (jiti's transform), never evaluated.

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { createJiti } from "jiti";

export interface WorkflowSource {
	/** The name the file declares (`workflow({ name: "x" })`), else the file's name. */
	name: string;
	/** Why the file cannot be a workflow: it does not parse, or cannot be read. */
	error?: string;
}

const transformer = createJiti(import.meta.url, { fsCache: false, moduleCache: false });

/** The first `name: "..."` of the `workflow({ ... })` call, when written as a string literal. */
const DECLARED_NAME = /\bworkflow\s*\(\s*\{[\s\S]*?\bname\s*:\s*(["'`])([^"'`\n]+)\1/;

export function readWorkflowSource(file: string): WorkflowSource {
	const fallback = basename(file).replace(/\.[cm]?ts$/, "");
	let source: string;
	try {
		source = readFileSync(file, "utf8");
	} catch (error) {
		return { name: fallback, error: `could not read: ${error instanceof Error ? error.message : String(error)}` };
	}
	const name = DECLARED_NAME.exec(source)?.[2] ?? fallback;
	const problem = parseProblem(source, file);
	return problem ? { name, error: problem } : { name };
}

/** A syntax error, as jiti's transform reports it (in the code it returns: `exports.__JITI_ERROR__ = {...}`). */
function parseProblem(source: string, file: string): string | undefined {
	const code = transformer.transform({ source, filename: file, ts: true });
	const marker = /exports\.__JITI_ERROR__ = (\{.*\})/.exec(code);
	if (!marker) return undefined;
	try {
		const { line, column, message } = JSON.parse(marker[1] as string) as {
			line: number;
			column: number;
			message: string;
		};
		return `could not load: ${String(message).trim()} (line ${line}, column ${column})`;
	} catch {
		return "could not load: it does not parse";
	}
}
