CREATE DATABASE ledger OWNER skureel;
