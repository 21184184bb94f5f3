// ui/components.tsx — small presentational pieces shared by the pages.
//
// Owns: status badges, health counts, tag chips, the inline error line and empty states.
// Must never: fetch data.
import type { ReactNode } from 'react';
import type { ApiError } from './api.ts';
import { normalStatus, type HealthCounts } from './model/health.ts';

export function StatusBadge({ status }: { status: string }) {
  const s = status === '' ? 'unknown' : status;
  const cls = s === 'unknown' ? 'unknown' : normalStatus(s);
  return (
    <span className={`badge ${cls}`} data-status={s}>
      {s}
    </span>
  );
}

export function GossipBadge({ status }: { status: string }) {
  const cls = status === 'alive' ? 'passing' : status === 'failed' ? 'critical' : status === 'unknown' ? 'unknown' : 'warning';
  return (
    <span className={`badge ${cls}`} data-gossip={status}>
      {status}
    </span>
  );
}

export function Counts({ counts }: { counts: HealthCounts | undefined }) {
  if (!counts) return <span className="muted">…</span>;
  return (
    <span className="counts">
      {(['passing', 'warning', 'critical'] as const).map((k) => (
        <span key={k} className={`count ${k}${counts[k] === 0 ? ' zero' : ''}`} data-count={k} title={`${counts[k]} ${k}`}>
          {counts[k]} {k}
        </span>
      ))}
    </span>
  );
}

export function Tags({ tags }: { tags: readonly string[] | null | undefined }) {
  if (!tags || tags.length === 0) return <span className="muted">—</span>;
  return (
    <span className="tags">
      {tags.map((t) => (
        <span key={t} className="tag">
          {t}
        </span>
      ))}
    </span>
  );
}

/** Shown under a section whose last request failed. The banners explain "no leader" and
 *  "agent unreachable"; here we only say what that means for this section's data. */
export function ErrorLine({ error, stale }: { error: ApiError | null; stale: boolean }) {
  if (!error) return null;
  if (error.noLeader || error.status === 0) {
    const why = error.noLeader ? 'no cluster leader' : 'agent unreachable';
    return (
      <p className="muted" role="status" data-testid="waiting">
        {stale ? `Showing the last known data (${why}), retrying…` : `Waiting: ${why}, retrying…`}
      </p>
    );
  }
  return (
    <p className="error-line" role="status">
      {error.message}
      {stale ? ' — showing the last known data, retrying…' : ' — retrying…'}
    </p>
  );
}

export function Section({ title, children, extra }: { title: string; children: ReactNode; extra?: ReactNode }) {
  return (
    <section>
      <div className="section-head">
        <h2>{title}</h2>
        {extra}
      </div>
      {children}
    </section>
  );
}

/** "Loading …" until the first answer; nothing while a failure is already explained above. */
export function Loading({ what, error }: { what: string; error?: ApiError | null }) {
  if (error) return null;
  return <p className="muted">Loading {what}…</p>;
}
