// What a stage session loads besides its prompt: the user's and project's extensions, skills and
// context files (as a normal Pi session would), but never pi-workflows itself, so a stage cannot
// start workflows. Stages use in-memory settings, so installed packages are not resolved or fetched. Extensions
// of the stage's own (the containment of its file tools) come as factories and must load, or the stage fails.

import { realpathSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import {
	DefaultResourceLoader,
	type ExtensionFactory,
	type ResourceLoader,
	type SettingsManager,
} from "@mariozechner/pi-coding-agent";

/** Which of the user's resources stages load (all by default). */
export interface StageResourceOptions {
	extensions?: boolean;
	skills?: boolean;
	contextFiles?: boolean;
}

/** Root of the pi-workflows package (three levels above this file's folder). */
const PACKAGE_ROOT = realPath(resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", ".."));

export async function createStageResourceLoader(options: {
	cwd: string;
	agentDir: string;
	settingsManager: SettingsManager;
	resources: StageResourceOptions;
	appendSystemPrompt?: string;
	/** Extensions of the stage's own, loaded after the user's (Pi names them `<inline:1>`, ...). */
	extensionFactories?: ExtensionFactory[];
	/** A stage in a worktree: context files (AGENTS.md) come from inside it or the agent dir, never from the
	 * folders above it (the user's checkout). */
	contextRoot?: string;
}): Promise<ResourceLoader> {
	const { resources } = options;
	const loader = new DefaultResourceLoader({
		cwd: options.cwd,
		agentDir: options.agentDir,
		settingsManager: options.settingsManager,
		noExtensions: resources.extensions === false,
		noSkills: resources.skills === false,
		noContextFiles: resources.contextFiles === false,
		noPromptTemplates: true,
		noThemes: true,
		appendSystemPrompt: options.appendSystemPrompt ? [options.appendSystemPrompt] : undefined,
		extensionFactories: options.extensionFactories,
		...(options.contextRoot
			? {
					agentsFilesOverride: (base: { agentsFiles: Array<{ path: string; content: string }> }) => ({
						...base,
						agentsFiles: base.agentsFiles.filter(
							(file) =>
								isInside(file.path, options.contextRoot as string) || isInside(file.path, options.agentDir),
						),
					}),
				}
			: {}),
		extensionsOverride: (base) => ({
			...base,
			extensions: base.extensions.filter(
				(extension) => isInline(extension.path) || !isInsidePackage(extension.resolvedPath || extension.path),
			),
		}),
	});
	await loader.reload();
	// NOTE: Pi reports a factory that throws as a load error and goes on without it; a stage must not run
	// without its own extensions (its containment, say).
	const failed = loader.getExtensions().errors.filter((error) => isInline(error.path));
	if (failed.length > 0) {
		const details = failed.map((error) => `${error.path}: ${error.error}`).join("; ");
		throw new Error(`a stage extension of pi-workflows failed to load (${details})`);
	}
	return loader;
}

function isInside(path: string, root: string): boolean {
	const real = realPath(path);
	const top = realPath(root);
	return real === top || real.startsWith(top + sep);
}

function isInline(path: string): boolean {
	return path.startsWith("<inline:");
}

function isInsidePackage(path: string): boolean {
	const real = realPath(path);
	return real === PACKAGE_ROOT || real.startsWith(PACKAGE_ROOT + sep);
}

function realPath(path: string): string {
	try {
		return realpathSync(path);
	} catch {
		return path;
	}
}
