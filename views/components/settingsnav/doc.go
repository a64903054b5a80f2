// Package settingsnav renders the sub-navigation between the settings
// pages (API tokens, password).
package settingsnav
