import type { ReactNode } from 'react';
import type { User } from '../types';

const NAV = [
  { path: 'overview', label: 'Overview', icon: 'M2 9h4v5H2zM7 5h4v9H7zM12 2h3v12h-3z' },
  { path: 'cases', label: 'Cases', icon: 'M2 3h12v3H2zM2 7.5h12v3H2zM2 12h8v2H2z' },
  { path: 'accounts', label: 'Accounts', icon: 'M8 2a3 3 0 1 1 0 6 3 3 0 0 1 0-6zM2.5 14c.5-3 2.8-4.5 5.5-4.5s5 1.5 5.5 4.5z' },
  { path: 'orgs', label: 'Orgs', icon: 'M2 14V4l5-2v12zM8 14V6h6v8zM10 8h2v1.5h-2zM10 11h2v1.5h-2z' },
  { path: 'policy', label: 'Policy', icon: 'M8 1l6 2.5V8c0 3.5-2.6 6-6 7-3.4-1-6-3.5-6-7V3.5z' },
  { path: 'users', label: 'Users', icon: 'M5.5 2a2.5 2.5 0 1 1 0 5 2.5 2.5 0 0 1 0-5zM11 3a2 2 0 1 1 0 4 2 2 0 0 1 0-4zM1 13c.4-2.6 2.2-4 4.5-4s4.1 1.4 4.5 4zM10.6 9.2c2 0 3.6 1.2 4 3.8h-3.7c-.2-1.5-.8-2.8-1.8-3.6z', admin: true },
] as const;

export function Layout({ user, active, onSignOut, children }: { user: User; active: string; onSignOut: () => void; children: ReactNode }) {
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">
          <svg width="22" height="22" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="#3b6fb6" />
            <path d="M16 5l9 4v6c0 6-4 10-9 12-5-2-9-6-9-12V9z" fill="none" stroke="#fff" strokeWidth="2.4" strokeLinejoin="round" />
          </svg>
          <span className="brand-name">Warden</span>
          <span className="brand-sub">Console</span>
        </div>
        <nav aria-label="Main">
          <ul className="nav">
            {NAV.filter((n) => !('admin' in n) || user.role === 'admin').map((n) => (
              <li key={n.path}>
                <a href={`#/${n.path}`} className={active === n.path ? 'active' : undefined} aria-current={active === n.path ? 'page' : undefined}>
                  <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
                    <path d={n.icon} fill="currentColor" />
                  </svg>
                  <span>{n.label}</span>
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar-user">
          <div className="user-line">
            <span className="avatar" aria-hidden="true">
              {user.username.slice(0, 1).toUpperCase()}
            </span>
            <span className="user-name" title={user.username}>
              {user.username}
            </span>
            <span className={`role role-${user.role}`}>{user.role}</span>
          </div>
          <button type="button" className="btn btn-small btn-sidebar" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </aside>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

export function PageHeader({ title, titleRef, kicker, actions, children }: { title: ReactNode; titleRef?: React.RefObject<HTMLHeadingElement | null>; kicker?: ReactNode; actions?: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-head">
      <div className="page-head-main">
        {kicker && <div className="kicker">{kicker}</div>}
        <h1 ref={titleRef} tabIndex={-1}>
          {title}
        </h1>
        {children}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}
