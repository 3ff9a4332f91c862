// Entry point: picks the transport once (Electron's preload bridge or the serve host's HTTP) and mounts
// the app.
import { mount } from 'svelte';
import App from './App.svelte';
import { selectApi } from './api/select.js';
import { AppStore } from './stores/app.svelte.js';
import './styles.css';

const store = new AppStore(selectApi(window));
const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks #app');
mount(App, { target, props: { store } });
void store.start();
