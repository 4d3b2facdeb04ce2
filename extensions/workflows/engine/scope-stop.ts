// Stopping the part of a run a scope belongs to: a child workflow's own stop ends that child (ctx.workflow
// returns how it ended), anywhere else a stop ends the whole run. And how a scope is being stopped, which tells a
// stopped stage whether it was interrupted (a pause, a budget: a resume continues it) or cancelled.

import type { RunStop } from "../authoring/run-stop.js";
import type { Scope } from "./scope.js";

/** Stops the child workflow the scope runs in, or the whole run outside any child. */
export function stopScope(scope: Scope, stop: RunStop): void {
	if (scope.frame) scope.frame.stop(stop);
	else scope.services.stopRun(stop);
}

/** Why the calls of this scope are being stopped: the run's stop first, then its child workflows'. */
export function scopeStopping(scope: Scope): "pause" | "cancel" | "stop" | undefined {
	const run = scope.services.stopping();
	if (run) return run;
	for (let frame = scope.frame; frame; frame = frame.parent) {
		const child = frame.stopping();
		if (child) return child;
	}
	return undefined;
}
