// ui/main.tsx — browser entry point: mounts the App into #app.
// Must never: do more than mount; everything else lives in app.tsx and below.
import { App } from './app.tsx';
import { createRoot } from 'react-dom/client';
import './style.css';

const el = document.getElementById('app');
if (!el) throw new Error('muster ui: index.html has no #app element');
createRoot(el).render(<App />);
