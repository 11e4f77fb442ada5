/** Small shared pieces of the console's pages. */
import type { ComponentChildren } from 'preact';
import { ApiError } from '../lib/api';
import { BASE, linkClick } from '../lib/router';

/** An in-app link (the router handles it; a modified click opens a new tab as usual). */
export function Link(props: {
  to: string;
  children: ComponentChildren;
  class?: string;
  'aria-current'?: 'page';
}) {
  return (
    <a
      href={BASE + props.to}
      class={props.class}
      aria-current={props['aria-current']}
      onClick={(e) => linkClick(e, props.to)}
    >
      {props.children}
    </a>
  );
}

/** The product's mark and name (the same drawing as the favicon, src/ui/icon.svg). */
export function Brand(props: { class: string }) {
  return (
    <div class={props.class}>
      <svg viewBox="0 0 32 32" class="brand-mark" aria-hidden="true">
        <rect width="32" height="32" rx="7" />
        <circle cx="10" cy="16" r="4.5" />
        <circle cx="22" cy="16" r="4.5" />
      </svg>
      <span>Twinbridge</span>
    </div>
  );
}

export function PageHeader(props: {
  title: string;
  subtitle?: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <header class="page-header">
      <div>
        <h1 tabIndex={-1} id="page-title">
          {props.title}
        </h1>
        {props.subtitle && <p class="page-subtitle">{props.subtitle}</p>}
      </div>
      {props.actions && <div class="page-actions">{props.actions}</div>}
    </header>
  );
}

export function Card(props: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  id?: string;
}) {
  const headingId = props.id ? `${props.id}-title` : undefined;
  return (
    <section
      class={`card ${props.class ?? ''}`}
      id={props.id}
      aria-labelledby={props.title ? headingId : undefined}
    >
      {(props.title || props.actions) && (
        <div class="card-header">
          {props.title && <h2 id={headingId}>{props.title}</h2>}
          {props.actions && <div class="card-actions">{props.actions}</div>}
        </div>
      )}
      <div class="card-body">{props.children}</div>
    </section>
  );
}

/** The service's error as it said it: Ditto's message, its description and code. */
export function ErrorMessage(props: { error: unknown; id?: string; title?: string }) {
  const { error } = props;
  if (error === undefined || error === null) return null;
  const api = error instanceof ApiError ? error : undefined;
  const message = api?.body?.message ?? (error instanceof Error ? error.message : String(error));
  return (
    <div class="alert alert-error" role="alert" id={props.id}>
      {props.title && <strong class="alert-title">{props.title}</strong>}
      <p class="alert-message">{message}</p>
      {api?.body?.description && <p class="alert-description">{api.body.description}</p>}
      {api?.code && (
        <p class="alert-code">
          <code>{api.code}</code> · HTTP {api.status}
        </p>
      )}
    </div>
  );
}

export function Notice(props: {
  children: ComponentChildren;
  kind?: 'info' | 'warning' | 'success';
  id?: string;
}) {
  return (
    <div class={`alert alert-${props.kind ?? 'info'}`} role="status" id={props.id}>
      {props.children}
    </div>
  );
}

const STATUS_CLASS: Record<string, string> = {
  open: 'ok',
  connected: 'ok',
  closed: 'muted',
  connecting: 'warn',
  reconnecting: 'warn',
  failed: 'bad',
  misconfigured: 'bad',
  unknown: 'muted',
};

/** A status word with a coloured dot; the word itself carries the meaning (not only the colour). */
export function StatusBadge(props: { status: string; label?: string }) {
  return (
    <span class={`badge badge-${STATUS_CLASS[props.status] ?? 'muted'}`} data-status={props.status}>
      <span class="dot" aria-hidden="true" />
      {props.label ?? props.status}
    </span>
  );
}

export function Loading(props: { label?: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {props.label ?? 'Loading…'}
    </p>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}
