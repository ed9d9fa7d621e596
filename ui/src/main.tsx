// UI-1: one app, two faces — /dashboard is the kiosk, everything else the admin.
import { render } from 'preact';
import './styles.css';
import { AdminApp } from './admin/AdminApp.tsx';
import { Kiosk } from './kiosk/Kiosk.tsx';

const root = document.getElementById('app')!;
const kiosk = location.pathname === '/dashboard' || location.pathname.startsWith('/dashboard/');
document.body.classList.add(kiosk ? 'is-kiosk' : 'is-admin');
render(kiosk ? <Kiosk /> : <AdminApp />, root);
