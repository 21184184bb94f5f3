// ui/pages/kv.tsx — the KV browser: a folder listing (?keys&separator=/) with a create form,
// and a key view with edit (PUT ?cas=<ModifyIndex>) and delete (DELETE ?cas=<ModifyIndex>).
//
// Owns: the browse/create/edit/delete flow. Writes use check-and-set so an edit never
// silently overwrites a change made by someone else since the value was shown; a refused
// write says so and keeps the user's text.
// Must never: use window.confirm (blocks automation; delete asks inline instead).
import { useState } from 'react';
import { ApiError, apiWrite } from '../api.ts';
import { ErrorLine, Loading, Section } from '../components.tsx';
import { useBlocking } from '../live.ts';
import { decodeValue, kvPath, newKeyPath, parentPrefix, relativeKey, type KvEntry } from '../model/kv.ts';
import { href } from '../model/route.ts';

const go = (path: string): void => {
  window.location.hash = href({ page: 'kv', path });
};

function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
}

function Breadcrumb({ path }: { path: string }) {
  const parts = path.split('/');
  const crumbs: Array<{ label: string; path: string }> = [{ label: '(root)', path: '' }];
  let acc = '';
  parts.forEach((p, i) => {
    if (p === '' && i === parts.length - 1) return;
    acc += i < parts.length - 1 ? `${p}/` : p;
    crumbs.push({ label: i < parts.length - 1 ? `${p}/` : p, path: acc });
  });
  return (
    <nav className="crumbs" data-testid="kv-crumbs">
      {crumbs.map((c, i) => (
        <span key={c.path + i}>
          {i > 0 ? ' ' : ''}
          {i === crumbs.length - 1 ? <strong>{c.label}</strong> : <a href={href({ page: 'kv', path: c.path })}>{c.label}</a>}
        </span>
      ))}
    </nav>
  );
}

function CreateForm({ prefix }: { prefix: string }) {
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (): Promise<void> => {
    const key = newKeyPath(prefix, name);
    if (key === prefix) {
      setMessage('Enter a key name.');
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      // cas=0: create only, so an existing key is never overwritten from this form.
      const ok = await apiWrite('PUT', `${kvPath(key)}?cas=0`, key.endsWith('/') ? '' : value);
      if (ok === true) {
        setName('');
        setValue('');
        go(key);
      } else setMessage(`Not created: ${key} already exists. Open it to edit.`);
    } catch (err) {
      setMessage(`Not created: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="kv-create" onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }} data-testid="kv-create">
      <h3>Create a key</h3>
      <label>
        Key <span className="muted small">(under {prefix || 'the root'}; end with / for a folder)</span>
        <input name="key" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Value
        <textarea name="value" rows={4} value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <button type="submit" disabled={busy}>
        Create
      </button>
      {message ? <p className="error-line">{message}</p> : null}
    </form>
  );
}

function KvList({ prefix }: { prefix: string }) {
  const live = useBlocking<string[] | null>(`${kvPath(prefix)}?keys&separator=/`, { allow404: true });
  const keys = live.data ?? [];
  return (
    <>
      <Breadcrumb path={prefix} />
      <ErrorLine error={live.error} stale={live.data !== undefined} />
      {live.data === undefined ? (
        <Loading what="keys" error={live.error} />
      ) : keys.length === 0 ? (
        <p className="muted">No keys under {prefix || 'the root'}.</p>
      ) : (
        <ul className="kv-list" data-testid="kv-list">
          {keys.map((k) => (
            <li key={k} data-key={k}>
              <a href={href({ page: 'kv', path: k })} className={k.endsWith('/') ? 'folder' : 'key'}>
                {relativeKey(prefix, k)}
              </a>
            </li>
          ))}
        </ul>
      )}
      <CreateForm prefix={prefix} />
    </>
  );
}

function KvKey({ keyName }: { keyName: string }) {
  const live = useBlocking<KvEntry[] | null>(kvPath(keyName), { allow404: true });
  const [draft, setDraft] = useState<{ text: string; cas: number } | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const entry = live.data?.[0];

  const save = async (): Promise<void> => {
    if (!draft) return;
    setMessage(null);
    try {
      const ok = await apiWrite('PUT', `${kvPath(keyName)}?cas=${draft.cas}`, draft.text);
      if (ok === true) {
        setDraft(null);
        setMessage('Saved.');
      } else {
        setMessage(
          `Not saved: the key changed since you started editing (you edited index ${draft.cas}, it is now ${entry?.ModifyIndex ?? 'deleted'}). ` +
            'Your text is kept; compare with the current value above, then save again to overwrite.',
        );
        if (entry) setDraft({ text: draft.text, cas: entry.ModifyIndex });
      }
    } catch (err) {
      setMessage(`Not saved: ${errorText(err)}`);
    }
  };

  const remove = async (): Promise<void> => {
    if (!entry) return;
    setMessage(null);
    try {
      const ok = await apiWrite('DELETE', `${kvPath(keyName)}?cas=${entry.ModifyIndex}`);
      if (ok === true) go(parentPrefix(keyName));
      else setMessage('Not deleted: the key changed meanwhile; look at the new value and try again.');
    } catch (err) {
      setMessage(`Not deleted: ${errorText(err)}`);
    } finally {
      setConfirmDelete(false);
    }
  };

  const value = entry ? decodeValue(entry.Value) : null;
  return (
    <>
      <Breadcrumb path={keyName} />
      <ErrorLine error={live.error} stale={live.data !== undefined} />
      {live.data === undefined ? (
        <Loading what={keyName} error={live.error} />
      ) : !entry ? (
        <p className="muted" data-testid="kv-missing">
          Key {keyName} does not exist (any more). <a href={href({ page: 'kv', path: parentPrefix(keyName) })}>Back to the folder</a>
        </p>
      ) : (
        <div className="kv-entry" data-testid="kv-entry" data-modify-index={entry.ModifyIndex}>
          <dl className="facts">
            <dt>Key</dt>
            <dd className="mono">{entry.Key}</dd>
            <dt>Indexes</dt>
            <dd className="mono">
              create {entry.CreateIndex} · modify {entry.ModifyIndex} · lock {entry.LockIndex}
            </dd>
            <dt>Flags</dt>
            <dd className="mono">{entry.Flags}</dd>
            {entry.Session ? (
              <>
                <dt>Locked by session</dt>
                <dd className="mono">{entry.Session}</dd>
              </>
            ) : null}
            <dt>Size</dt>
            <dd>
              {value!.bytes} bytes{value!.binary ? ' (binary, shown as hex)' : ''}
            </dd>
          </dl>
          <h3>Value</h3>
          <pre className="value" data-testid="kv-value">
            {value!.text}
          </pre>
          {draft ? (
            <div className="kv-edit">
              <textarea
                name="edit"
                rows={6}
                value={draft.text}
                onChange={(e) => setDraft({ ...draft, text: e.target.value })}
              />
              <div className="buttons">
                <button type="button" onClick={() => void save()}>
                  Save (cas={draft.cas})
                </button>
                <button type="button" className="secondary" onClick={() => setDraft(null)}>
                  Cancel
                </button>
              </div>
            </div>
          ) : (
            <div className="buttons">
              <button
                type="button"
                disabled={value!.binary}
                onClick={() => {
                  setMessage(null);
                  setDraft({ text: value!.text, cas: entry.ModifyIndex });
                }}
              >
                Edit
              </button>
              {confirmDelete ? (
                <>
                  <button type="button" className="danger" onClick={() => void remove()}>
                    Really delete {entry.Key}
                  </button>
                  <button type="button" className="secondary" onClick={() => setConfirmDelete(false)}>
                    Keep it
                  </button>
                </>
              ) : (
                <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>
                  Delete
                </button>
              )}
            </div>
          )}
        </div>
      )}
      {message ? (
        <p className="note" data-testid="kv-message">
          {message}
        </p>
      ) : null}
    </>
  );
}

export function KvPage({ path }: { path: string }) {
  const isFolder = path === '' || path.endsWith('/');
  return (
    <Section title="Key/Value">
      {isFolder ? <KvList key={path} prefix={path} /> : <KvKey key={path} keyName={path} />}
    </Section>
  );
}
