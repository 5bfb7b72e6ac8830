/**
 * Catches a page that fails to render (or a code chunk that fails to load after an upgrade of
 * the server) and offers a reload instead of a blank screen.
 */
import { Component, type ReactNode } from 'react';

export class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: Error | null; key: string }> {
  override state: { error: Error | null; key: string } = { error: null, key: this.props.resetKey };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  static getDerivedStateFromProps(props: { resetKey: string }, state: { error: Error | null; key: string }) {
    // Navigating elsewhere clears the error.
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }

  override render() {
    if (!this.state.error) return this.props.children;
    const chunk = /dynamically imported module|Failed to fetch|Loading chunk/i.test(this.state.error.message);
    return (
      <div className="error-box" role="alert">
        <span className="error-icon" aria-hidden="true">
          !
        </span>
        <span className="error-text">
          {chunk ? 'The console was updated on the server since this page was opened. Reload to continue.' : `This page failed to show: ${this.state.error.message}. Reload; if it happens again, tell your Warden admin.`}
        </span>
        <button type="button" className="btn btn-small" onClick={() => window.location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}
