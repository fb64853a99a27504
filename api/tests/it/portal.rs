//! The web portal in a real headless Chromium, driven through WebDriver: each flow a
//! finance team follows is one test, and every page goes through axe-core.

mod browser;
mod flows;
mod pages;
mod people;
mod security;
