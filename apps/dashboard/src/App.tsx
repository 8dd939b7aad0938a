import { NavLink, Route, Routes } from 'react-router';
import { Loading } from './components/states.js';
import { useConnectionLost } from './connection.js';
import { type Lang, useLang } from './i18n.js';
import { AlertsPage } from './pages/Alerts.js';
import { KeysPage } from './pages/Keys.js';
import { MessagePage } from './pages/Message.js';
import { MessagesPage } from './pages/Messages.js';
import { NotFoundPage } from './pages/NotFound.js';
import { OverviewPage } from './pages/Overview.js';
import { RecoveryPage } from './pages/Recovery.js';
import { SignInPage } from './pages/SignIn.js';
import { SuppressionsPage } from './pages/Suppressions.js';
import { useSession } from './session.js';

function LangSwitch() {
  const { lang, setLang, t } = useLang();
  return (
    <label className="lang">
      <span className="visually-hidden">{t('lang.label')}</span>
      <select value={lang} onChange={(event) => setLang(event.target.value as Lang)} aria-label={t('lang.label')}>
        <option value="en">English</option>
        <option value="ja">日本語</option>
      </select>
    </label>
  );
}

function ConnectionBanner() {
  const lost = useConnectionLost();
  const { t } = useLang();
  if (!lost) return null;
  return (
    <div className="banner banner-error" role="alert">
      <span aria-hidden="true">⚠ </span>
      {t('connection.lost')}
    </div>
  );
}

export function App() {
  const { state, signOut } = useSession();
  const { t } = useLang();
  if (state.status === 'checking') {
    return (
      <div className="shell">
        <header className="top">
          <span className="brand">mailroute</span>
        </header>
        <main>
          <Loading />
        </main>
      </div>
    );
  }
  if (state.status !== 'signed-in') {
    return (
      <div className="shell">
        <header className="top">
          <span className="brand">mailroute</span>
          <LangSwitch />
        </header>
        <SignInPage />
      </div>
    );
  }
  const links = [
    ['/', t('nav.overview')],
    ['/messages', t('nav.messages')],
    ['/recovery', t('nav.recovery')],
    ['/alerts', t('nav.alerts')],
    ['/suppressions', t('nav.suppressions')],
    ['/keys', t('nav.keys')],
  ] as const;
  return (
    <div className="shell">
      <header className="top">
        <span className="brand">mailroute</span>
        <nav aria-label={t('nav.label')}>
          {links.map(([to, label]) => (
            <NavLink key={to} to={to} end={to === '/'}>
              {label}
            </NavLink>
          ))}
        </nav>
        <span className="who" title={`${state.who.prefix}…`}>
          {state.who.name} <span className="muted">({state.who.scopes.join(', ')})</span>
        </span>
        <LangSwitch />
        <button type="button" className="link" onClick={() => void signOut()}>
          {t('signin.signOut')}
        </button>
      </header>
      <ConnectionBanner />
      <main>
        <Routes>
          <Route path="/" element={<OverviewPage />} />
          <Route path="/messages" element={<MessagesPage />} />
          <Route path="/messages/:id" element={<MessagePage />} />
          <Route path="/recovery" element={<RecoveryPage />} />
          <Route path="/alerts" element={<AlertsPage />} />
          <Route path="/suppressions" element={<SuppressionsPage />} />
          <Route path="/keys" element={<KeysPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </main>
    </div>
  );
}
