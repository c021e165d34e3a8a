/** What the deploy drill's version 2 changes (sandbox-safe: its workflow modules import it). */

/** The patched() ID of version 2's change; unique across the project (ORDER_PATCHES, SessionPatch). */
export const DEPLOY_DRILL_PATCH = 'deploy-drill-v2';

/** Version 2's settling timer before an order's first step: short, so a drill order is not slowed much. */
export const V2_SETTLE_MS = 250;
