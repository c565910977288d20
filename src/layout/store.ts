/**
 * Transition only: stored layouts moved to src/atlas/layouts.ts. src/export/layout.ts
 * still imports them from here until its owner points it at the atlas module; then
 * this file goes.
 */
export {
  listLayouts,
  readLayout,
  writeLayout,
  type LayoutManifest,
  type NewLayout,
  type StoredLayout,
} from '../atlas/layouts.js';
